"""Find the feed files of a corpus directory and tell their format from the header line.

A corpus is laid out like `../shared/data`: phishing feeds under `feeds/` (or `phishing/`),
benign and allow lists under `benign/` (or `allow/`). CSV formats carry their class in the
format itself; a plain URL list takes it from its top-level folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from angler.errors import AnglerError

PHISHING, BENIGN = 1, 0

# format name -> (header columns, class of every row or None when a label column says it)
CSV_FORMATS: dict[str, tuple[tuple[str, ...], int | None]] = {
    "jpcert": (("date", "url", "description"), PHISHING),
    "phishtank": (
        (
            "phish_id",
            "url",
            "phish_detail_url",
            "submission_time",
            "verified",
            "verification_time",
            "online",
            "target",
        ),
        PHISHING,
    ),
    "citizenlab": (
        ("url", "category_code", "category_description", "date_added", "source", "notes"),
        BENIGN,
    ),
    "labelled": (("url", "label", "date"), None),
    "labelled_nodate": (("url", "label"), None),
}
LIST_FOLDERS = {"feeds": PHISHING, "phishing": PHISHING, "benign": BENIGN, "allow": BENIGN}


class CorpusError(AnglerError):
    """The corpus directory or one of its files cannot be read as a feed."""


@dataclass(frozen=True)
class FeedFile:
    path: Path
    format: str  # a CSV_FORMATS key or "url_list"
    source: str  # the feed's name in reports and per-source metrics
    label: int | None  # class of every row; None when the file has a label column


def discover_feeds(corpus: Path) -> list[FeedFile]:
    """Every .csv and .txt feed below `corpus`, sorted by path."""
    if not corpus.is_dir():
        raise CorpusError(f"corpus directory {corpus} does not exist or is not a directory")
    paths = sorted(p for p in corpus.rglob("*") if p.suffix in {".csv", ".txt"} and p.is_file())
    if not paths:
        raise CorpusError(f"corpus directory {corpus} has no .csv or .txt feed files")
    return [_identify(path, corpus) for path in paths]


def _identify(path: Path, corpus: Path) -> FeedFile:
    first, has_rows = _first_line_and_rows(path)
    if not has_rows:
        raise CorpusError(f"{path}: empty feed (no data rows)")
    columns = tuple(c.strip().lower() for c in first.split(","))
    for name, (header, label) in CSV_FORMATS.items():
        if columns == header:
            source = path.stem if name.startswith("labelled") else name
            return FeedFile(path, name, source, label)
    if path.suffix == ".csv":
        expected = "; ".join(",".join(h) for h, _ in CSV_FORMATS.values())
        raise CorpusError(
            f"{path}: unknown CSV header '{first[:200]}'; expected one of: {expected}"
        )
    folder = path.relative_to(corpus).parts[0] if len(path.relative_to(corpus).parts) > 1 else ""
    if folder not in LIST_FOLDERS:
        raise CorpusError(
            f"{path}: cannot tell the class of this URL list; put it under "
            f"{' or '.join(f'{f}/' for f in LIST_FOLDERS)} in the corpus"
        )
    return FeedFile(path, "url_list", path.stem, LIST_FOLDERS[folder])


def _first_line_and_rows(path: Path) -> tuple[str, bool]:
    """The first line and whether any non-blank line follows it (or it is a URL itself)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as lines:
            first = next(lines, "").strip()
            has_rows = any(line.strip() for line in lines)
    except OSError as err:
        raise CorpusError(f"{path}: cannot read: {err.strerror}") from None
    looks_like_url = "." in first and "," not in first
    return first, has_rows or (path.suffix == ".txt" and looks_like_url)
