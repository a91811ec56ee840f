"""Served traffic for the monitor: files of URLs with the scores the model served for them.

A traffic folder holds Parquet or CSV files (e.g. TF Serving request logs exported by the
log pipeline) with a `url` column (the raw string sent to the model), a `score` column (the
`phishing_probability` served) and optionally a `time` column. Rows that cannot be used go
to the quarantine file with the reason; a file that cannot be read at all is an error.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from angler.data.features import lexical_features
from angler.data.schema import FEATURE_COLUMNS
from angler.data.urls import UrlError, parse_url, unparseable_reason
from angler.errors import AnglerError

REQUIRED_COLUMNS = ("url", "score")
TRAFFIC_SUFFIXES = (".parquet", ".csv")
QUARANTINE_COLUMNS = ["file", "row", "raw_url", "score", "reason"]


class TrafficError(AnglerError):
    """A traffic file is unreadable, empty or lacks a required column."""


@dataclass(frozen=True)
class Traffic:
    files: list[str]
    rows_in: int
    features: pd.DataFrame  # FEATURE_COLUMNS + registered_domain + score, usable rows only
    quarantined: pd.DataFrame  # QUARANTINE_COLUMNS
    period: tuple[str, str] | None  # first and last `time`, when the files have one


def traffic_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise TrafficError(f"traffic folder {folder} does not exist")
    return sorted(p for p in folder.iterdir() if p.suffix in TRAFFIC_SUFFIXES and p.is_file())


def read_traffic_file(path: Path) -> pd.DataFrame:
    """One traffic file as a frame with at least `url` and `score`, or a TrafficError."""
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype={"url": "string"}, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise TrafficError(f"traffic file {path} is empty") from None
    except Exception as err:  # pyarrow and the CSV parser raise many types for a broken file
        kind = "Parquet" if path.suffix == ".parquet" else "CSV"
        raise TrafficError(f"traffic file {path} is not readable {kind}: {err}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise TrafficError(
            f"traffic file {path} lacks column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, frame.columns)) or 'none'}"
        )
    if frame.empty:
        raise TrafficError(f"traffic file {path} has no rows")
    return frame


def load_traffic(
    files: list[Path], suspicious_tokens: tuple[str, ...], max_url_length: int
) -> Traffic:
    """Read, check and featurize every traffic file; bad rows are set aside with a reason."""
    good, bad, times = [], [], []
    rows_in = 0
    for path in files:
        frame = read_traffic_file(path)
        rows_in += len(frame)
        scores = pd.to_numeric(frame["score"], errors="coerce")
        if "time" in frame.columns:
            times.append(pd.to_datetime(frame["time"], errors="coerce", utc=True))
        for row, (raw, raw_score, score) in enumerate(
            zip(frame["url"], frame["score"], scores, strict=True)
        ):
            if not 0 <= score <= 1:  # NaN fails this too
                bad.append([path.name, row, raw, raw_score, "score missing or not in [0, 1]"])
                continue
            try:
                parsed = parse_url(raw if isinstance(raw, str) else None, max_url_length)
            except UrlError as err:
                bad.append([path.name, row, raw, raw_score, str(err)])
                continue
            except Exception as err:  # a parser bug costs this row, never the stage
                bad.append([path.name, row, raw, raw_score, unparseable_reason(err)])
                continue
            features = lexical_features(parsed, suspicious_tokens)
            good.append(
                features | {"registered_domain": parsed.registered_domain, "score": float(score)}
            )
    columns = [*FEATURE_COLUMNS, "registered_domain", "score"]
    return Traffic(
        files=[p.name for p in files],
        rows_in=rows_in,
        features=pd.DataFrame(good, columns=columns),
        quarantined=pd.DataFrame(bad, columns=QUARANTINE_COLUMNS),
        period=_period(times),
    )


def _period(times: list[pd.Series]) -> tuple[str, str] | None:
    stamps = pd.concat(times).dropna() if times else pd.Series([], dtype=object)
    return (stamps.min().isoformat(), stamps.max().isoformat()) if len(stamps) else None


def collect_traffic(source: str, folder: Path) -> list[str]:
    """Replace the traffic files in `folder` with those matching the fsspec glob `source`."""
    import fsspec

    sources = fsspec.open_files(source)
    if not sources:
        raise TrafficError(f"no traffic files match {source}")
    names = [Path(remote.path).name for remote in sources]
    wrong = [name for name in names if not name.endswith(TRAFFIC_SUFFIXES)]
    if wrong:  # checked before anything in `folder` is replaced
        raise TrafficError(f"traffic files are .parquet or .csv, not {', '.join(wrong)}")
    for old in traffic_files(folder):
        old.unlink()
    for remote, name in zip(sources, names, strict=True):
        with remote as src, open(folder / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return names


def write_quarantine(rows: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, index=False)
