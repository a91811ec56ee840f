"""Served traffic for the monitor: the traffic files (angler/data/served.py) read, checked
and featurized. Rows that cannot be used go to the quarantine file with the reason; a file
that cannot be read at all is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from angler.data.features import lexical_features
from angler.data.schema import FEATURE_COLUMNS
from angler.data.served import read_traffic_file
from angler.data.urls import UrlError, parse_url, unparseable_reason

QUARANTINE_COLUMNS = ["file", "row", "raw_url", "score", "reason"]


@dataclass(frozen=True)
class Traffic:
    files: list[str]
    rows_in: int
    features: pd.DataFrame  # FEATURE_COLUMNS + registered_domain + score, usable rows only
    quarantined: pd.DataFrame  # QUARANTINE_COLUMNS
    period: tuple[str, str] | None  # first and last `time`, when the files have one


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


def write_quarantine(rows: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, index=False)
