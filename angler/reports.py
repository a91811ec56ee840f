"""Stage reports: small JSON files under reports/, read by `angler summary` and the PR bot."""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

# Rows a stage may legitimately not pass on, each counted in its report.
SET_ASIDE = ("quarantined", "sampled_out", "duplicates", "merged")


def write_report(path: Path, stage: str, report: dict) -> dict:
    """Write `report` with its stage name and row-accounting check; return what was written."""
    report = {"stage": stage, **report}
    if "rows_in" in report:
        set_aside = {key: report[key] for key in SET_ASIDE if key in report}
        report["balanced"] = report["rows_in"] == report["rows_out"] + sum(set_aside.values())
        details = "".join(f", {key} {count:,}" for key, count in set_aside.items())
        log.info(
            "%s rows in, %s out%s", f"{report['rows_in']:,}", f"{report['rows_out']:,}", details
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    log.info("report written to %s", path)
    return report


def read_report(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def flatten(values: dict, prefix: str = "") -> dict:
    """Nested mappings as one level of dotted keys: {"a": {"b": 1}} -> {"a.b": 1}."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
