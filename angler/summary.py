"""The short summary `make demo` prints after a pipeline run, from the stage reports."""

from __future__ import annotations

from pathlib import Path

from angler.reports import read_report

METRIC_COLUMNS = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "tpr_at_fpr_1pct": "TPR@1%FPR",
    "tpr_at_fpr_0_1pct": "TPR@0.1%FPR",
    "tpr_at_operating": "TPR@thr",
    "worst_benign_fpr": "worst FPR@thr",
}


def render_metrics(metrics_path: Path) -> str:
    """The evaluation metrics as a table, one row per slice, then the operating threshold
    and each slice's worst benign source and worst phishing feed at it."""
    metrics = read_report(metrics_path)
    if metrics is None:
        return f"no evaluation metrics at {metrics_path}"
    slices = {name: values for name, values in metrics.items() if "n" in values}
    header = f"{'slice':<10}{'URLs':>9}" + "".join(
        f"{name:>14}" for name in METRIC_COLUMNS.values()
    )
    rows = [header]
    for name, values in slices.items():
        cells = "".join(
            f"{values[key]:>14.4f}" if key in values else f"{'-':>14}" for key in METRIC_COLUMNS
        )
        rows.append(f"{name:<10}{values['n']:>9,}{cells}")
    operating = metrics.get("operating_point")
    if operating:
        rows += ["", operating_line(operating)]
    rows += [f"{name}: {worst_sources_line(values)}" for name, values in slices.items()]
    return "\n".join(rows)


def operating_line(operating: dict) -> str:
    return (
        f"threshold (thr) {operating['threshold']:.4f}, chosen on validation for "
        f"{operating['target_fpr']:.1%} FPR per {operating.get('fpr_unit', 'url')} "
        f"(there: FPR {operating['validation_fpr']:.2%} of benign URLs, "
        f"TPR {operating['validation_tpr']:.2%})"
    )


def worst_sources_line(values: dict) -> str:
    parts = []
    if "worst_benign_source" in values:
        parts.append(
            f"worst benign source {values['worst_benign_source']} "
            f"{values['worst_benign_fpr']:.2%} flagged"
        )
    if "worst_phishing_source" in values:
        parts.append(
            f"worst phishing feed {values['worst_phishing_source']} "
            f"{values['worst_phishing_tpr']:.2%} caught"
        )
    return "; ".join(parts) or "no per-source rates"


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
        f"{ingest['quarantined']:,} quarantined, {ingest['duplicates']:,} duplicates"
        + (f", {ingest['sampled_out']:,} sampled out" if ingest.get("sampled_out") else ""),
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
    drift = read_report(reports / "drift.json")
    if drift:
        lines.append(f"monitor:   {monitor_line(drift)}")
    unbalanced = [r["stage"] for r in (ingest, label, split) if r and r.get("balanced") is False]
    if unbalanced:
        lines.append(f"row accounting does not balance in: {', '.join(unbalanced)}")
    return "\n".join(lines)


def monitor_line(drift: dict) -> str:
    if drift["status"] == "no traffic":
        return "no traffic files yet (traffic/README.md)"
    urls = f"{drift['rows_out']:,} traffic URLs"
    if not drift["drift"]:
        return f"stable over {urls}"
    return f"DRIFT over {urls}: " + "; ".join(drift["exceeded"])
