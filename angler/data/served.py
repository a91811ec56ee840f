"""Served traffic as files: what TF Serving's request log, exported by the log pipeline,
gives the monitor and the PR report's shadow run. A traffic folder holds Parquet or CSV
files with a `url` column (the raw string sent to the model), a `score` column (the
`phishing_probability` served) and optionally a `time` column (traffic/README.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from angler.errors import AnglerError

REQUIRED_COLUMNS = ("url", "score")
TRAFFIC_SUFFIXES = (".parquet", ".csv")


class TrafficError(AnglerError):
    """A traffic file is unreadable, empty or lacks a required column."""


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
