"""The short summary `make demo` prints after a pipeline run, from the stage reports."""

from __future__ import annotations

from pathlib import Path

from angler.reports import read_report


def render_summary(reports: Path) -> str:
    ingest = read_report(reports / "ingest.json")
    if ingest is None:
        return f"no pipeline reports in {reports}/: run `dvc repro` first"
    label = read_report(reports / "label.json") or {}
    split = read_report(reports / "split.json") or {}
    validate = read_report(reports / "validate.json") or {}
    lines = [
        f"corpus: {ingest['corpus']} ({len(ingest['files'])} feed files)",
        f"ingest:    {ingest['rows_in']:>9,} rows read, {ingest['rows_out']:,} kept, "
        f"{ingest['quarantined']:,} quarantined, {ingest['duplicates']:,} duplicates",
    ]
    if label:
        lines.append(
            f"label:     {label['rows_out']:>9,} URLs: {label['phishing']:,} phishing, "
            f"{label['benign']:,} benign, {label['conflicts']:,} conflicts"
        )
    if split:
        parts = ", ".join(
            f"{name} {entry['urls']:,} ({entry['domains']:,} domains)"
            for name, entry in split["splits"].items()
        )
        lines.append(f"split:     {parts}")
    if validate:
        verdict = "passed" if validate["success"] else "FAILED: " + "; ".join(validate["failed"])
        lines.append(f"validate:  {verdict}")
    unbalanced = [r["stage"] for r in (ingest, label, split) if r and r.get("balanced") is False]
    if unbalanced:
        lines.append(f"row accounting does not balance in: {', '.join(unbalanced)}")
    return "\n".join(lines)
