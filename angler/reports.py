"""Stage reports: small JSON files under reports/, read by `angler summary` and the PR bot."""

from __future__ import annotations

import json
from pathlib import Path

# Rows a stage may legitimately not pass on, each counted in its report.
SET_ASIDE = ("quarantined", "duplicates", "merged")


def write_report(path: Path, stage: str, report: dict) -> dict:
    """Write `report` with its stage name and row-accounting check; return what was written."""
    set_aside = sum(report.get(key, 0) for key in SET_ASIDE)
    if "rows_in" in report:
        report = {
            "stage": stage,
            **report,
            "balanced": report["rows_in"] == report["rows_out"] + set_aside,
        }
    else:
        report = {"stage": stage, **report}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return report


def read_report(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
