"""The PR comment: `angler report`'s data as GitHub Markdown.

Everything that came from the pull request (param values, branch names, observed data
values) passes through `inert`, so it renders as text: no HTML, no links, no mentions, no
math, no table breaks. Plots are Mermaid charts, which GitHub renders with no image host.
"""

from __future__ import annotations

import html
import json

from angler.review.github_comment import MARKER, MAX_BODY
from angler.review.verdict import COMPARED
from angler.summary import METRIC_COLUMNS

ICONS = {"promote": "✅", "hold": "⏸️", "reject": "❌"}
STATE_ICONS = {"cached": "♻️ cached", "reran": "▶️ reran", "not completed": "⛔ not completed"}
# Grey for the base revision, red for the pull request.
CHART_INIT = '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#9e9e9e, #d62728"}}}}%%'
SLICES = ("test", "temporal")
MAX_TEXT = 200
MAX_OTHER_METRICS = 60
_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "`|$*_~[]\\@#!{}:"})


def inert(value: object) -> str:
    """Untrusted text made safe to show in Markdown, on one line, in a table cell or not."""
    text = " ".join(str(value).split())
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "…"
    return html.escape(text, quote=True).translate(_ESCAPES)


def render_comment(report: dict) -> str:
    """The whole comment, cut down to fit GitHub's size limit if it must be."""
    required = [_header(report), _verdict(report), _gate(report), _params(report)]
    optional = [_metrics(report), _stages(report), _curves(report), _other_metrics(report)]
    footer = _footer(report)
    while optional:
        body = "\n\n".join(part for part in [*required, *optional, footer] if part)
        if len(body) <= MAX_BODY:
            return body + "\n"
        optional.pop()
        footer = _footer(report, cut=True)
    return "\n\n".join(part for part in [*required, footer] if part)[:MAX_BODY] + "\n"


def _header(report: dict) -> str:
    pr = report["pull_request"]
    decision = report["verdict"]["decision"]
    title = f"{MARKER}\n## {ICONS[decision]} Angler report: **{decision}**"
    number = f"PR #{inert(pr['number'])}: " if pr["number"] else ""
    head = f"**{inert(pr['head_name'])}**" if pr["head_name"] else "this change"
    where = f"{number}{head} against **{inert(pr['base_name'])}**"
    data = report["data"]
    if data["corpus"] is None:
        return f"{title}\n\n{where}"
    if data["corpus"] == "demo":
        source = "the public demo data (seeded generator)"
        if not data["remote"]:
            source += "; this run had no DVC remote (a fork PR, or none configured)"
    else:
        source = f"corpus `{inert(data['corpus'])}`"
        source += " from the DVC remote" if data["remote"] else ", no DVC remote"
    return f"{title}\n\n{where} · data: {source}"


def _verdict(report: dict) -> str:
    verdict = report["verdict"]
    lines = [f"**Verdict: {verdict['decision']}**"]
    lines += [f"- {inert(reason)}" for reason in verdict["reasons"]]
    lines += [f"- note: {inert(caveat)}" for caveat in verdict["caveats"]]
    if verdict["comparisons"]:
        base = inert(report["pull_request"]["base_name"])
        lines += [
            "",
            "Champion/challenger on the same test URLs (paired bootstrap):",
            "",
            f"| test slice | {base} (champion) | this PR | Δ | interval of Δ |",
            "|---|---:|---:|---:|---|",
        ]
        for name, c in verdict["comparisons"].items():
            lines.append(
                f"| {COMPARED[name]} | {c['champion']:.4f} | {c['candidate']:.4f} | "
                f"{c['delta']:+.4f} | {c['low']:+.4f} to {c['high']:+.4f} |"
            )
    return "\n".join(lines)


def _gate(report: dict) -> str:
    gate = report["gate"]
    if not gate["ran"]:
        return "### Data checks\n\n⛔ The data checks did not run: an earlier stage failed."
    if gate["success"]:
        return f"### Data checks\n\n✅ All {gate['checked']} expectations passed."
    lines = [
        "### Data checks",
        "",
        f"❌ {len(gate['failed'])} of {gate['checked']} expectations failed:",
        "",
        "| suite | expectation | column | observed | expected |",
        "|---|---|---|---|---|",
    ]
    for check in gate["failed"]:
        lines.append(
            f"| {inert(check['suite'])} | {inert(check['expectation'])} | "
            f"{inert(check['column'] or '')} | {inert(_compact(check['observed']))} | "
            f"{inert(_compact(check['details']))} |"
        )
    return "\n".join(lines)


def _params(report: dict) -> str:
    base = inert(report["pull_request"]["base_name"])
    if not report["params"]:
        return f"### Params\n\nNo change to params.yaml against {base}."
    lines = ["### Params changed", "", f"| param | {base} | this PR |", "|---|---|---|"]
    for param in report["params"]:
        lines.append(
            f"| {inert(param['name'])} | {inert(_compact(param['old']))} | "
            f"{inert(_compact(param['new']))} |"
        )
    return "\n".join(lines)


def _metrics(report: dict) -> str:
    evaluate = report.get("metrics", {}).get("metrics/evaluate.json")
    if not evaluate:
        return ""
    base = inert(report["pull_request"]["base_name"])
    lines = [
        "### Metrics",
        "",
        f"| slice | metric | {base} | this PR | Δ |",
        "|---|---|---:|---:|---:|",
    ]
    for slice_name in SLICES:
        for key, label in {"n": "URLs", **METRIC_COLUMNS}.items():
            entry = evaluate.get(f"{slice_name}.{key}")
            if entry:
                lines.append(f"| {slice_name} | {label} | {_cells(entry)} |")
    return "\n".join(lines)


def _other_metrics(report: dict) -> str:
    """Everything else DVC tracks as metrics that changed: per-feed rates, stage counts,
    training history."""
    rows = []
    for path, entries in sorted(report.get("metrics", {}).items()):
        for key, entry in sorted(entries.items()):
            main_table = path == "metrics/evaluate.json" and key.count(".") == 1
            if main_table or not isinstance(entry.get("diff"), int | float) or not entry["diff"]:
                continue
            rows.append(f"| {inert(path)} | {inert(key)} | {_cells(entry)} |")
    if not rows:
        return ""
    left = len(rows) - MAX_OTHER_METRICS
    rows = rows[:MAX_OTHER_METRICS] + ([f"| … | {left} more |  |  |  |"] if left > 0 else [])
    base = inert(report["pull_request"]["base_name"])
    header = [f"| file | metric | {base} | this PR | Δ |", "|---|---|---:|---:|---:|"]
    return "\n".join(
        [
            f"<details><summary>Other metrics that changed ({len(rows)})</summary>",
            "",
            *header,
            *rows,
            "",
            "</details>",
        ]
    )


def _stages(report: dict) -> str:
    lines = ["### Stages", "", "| stage | this run | why |", "|---|---|---|"]
    for stage in report["stages"]:
        why = "; ".join(stage["reasons"]) or "same inputs as the base: outputs from the cache"
        lines.append(f"| {stage['stage']} | {STATE_ICONS[stage['state']]} | {inert(why)} |")
    return "\n".join(lines)


def _curves(report: dict) -> str:
    if "curves" not in report:
        return ""
    base = inert(report["pull_request"]["base_name"])
    charts = [
        _chart(
            "ROC, test slice", "false positive rate", "true positive rate", report["curves"]["roc"]
        ),
        _chart("Precision-recall, test slice", "recall", "precision", report["curves"]["pr"]),
    ]
    legend = f"Grey: {base}. Red: this PR."
    return "\n\n".join(["### Curves", legend, *[c for c in charts if c]])


def _chart(title: str, x_label: str, y_label: str, curve: dict) -> str:
    lines = [line for line in (curve["base"], curve["head"]) if line]
    if not curve["head"]:
        return ""
    low = min(min(line) for line in lines)
    bottom = max(0.0, int(low * 20) / 20)
    x_axis = ", ".join(f'"{x:g}"' for x in curve["x"])
    body = [
        "```mermaid",
        CHART_INIT if curve["base"] else CHART_INIT.replace("#9e9e9e, ", ""),
        "xychart-beta",
        f'    title "{title}"',
        f'    x-axis "{x_label}" [{x_axis}]',
        f'    y-axis "{y_label}" {bottom:g} --> 1',
        *[f"    line [{', '.join(f'{v:g}' for v in line)}]" for line in lines],
        "```",
    ]
    return "\n".join(body)


def _footer(report: dict, cut: bool = False) -> str:
    run = report.get("mlflow") or {}
    parts = []
    if run.get("url"):
        parts.append(f"MLflow run: [{run['run_id']}]({run['url']})")
    elif run.get("run_id"):
        parts.append(
            f"MLflow run `{run['run_id']}` in the local store (`mlflow.db`; CI uploads it as "
            "the `mlflow-store` artifact)"
        )
    if cut:
        parts.append(
            "Some sections were left out to stay under GitHub's comment size limit; the full "
            "report is in the `angler-report` artifact"
        )
    parts.append("Generated by `angler report`")
    return "<sub>" + " · ".join(parts) + "</sub>"


def _cells(entry: dict) -> str:
    """base | PR | Δ: counts as integers, rates and scores to four decimals."""
    old, new, diff = entry.get("old"), entry.get("new"), entry.get("diff")
    whole = all(isinstance(value, int) for value in (old, new) if value is not None)
    number = "{:,}" if whole else "{:.4f}"
    sign = "{:+,}" if whole else "{:+.4f}"

    def show(value, fmt):
        return (
            fmt.format(value)
            if isinstance(value, int | float)
            else inert(value if value is not None else "–")
        )

    return f"{show(old, number)} | {show(new, number)} | {show(diff, sign)}"


def _compact(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
