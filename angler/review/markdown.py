"""The PR comment: report.json (`angler report`'s data) as GitHub Markdown.

The trusted poster renders it with the default branch's code, so the pull request's run
hands over data, never Markdown. Every string in that data passes through `inert`, which
keeps it text on GitHub: no HTML, image, link, autolink, mention, issue reference, math,
table break or bidi control can come out of it. Plots are Mermaid charts of numbers.
Standard library only, like the poster.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import datetime

from angler.review.github_comment import MARKER, MAX_BODY
from angler.review.report_schema import COMPARED
from angler.summary import METRIC_COLUMNS

ICONS = {"promote": "✅", "hold": "⏸️", "reject": "❌"}
STATE_ICONS = {"cached": "♻️ cached", "reran": "▶️ reran", "not completed": "⛔ not completed"}
# Grey for the base revision, red for the pull request.
CHART_INIT = '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#9e9e9e, #d62728"}}}}%%'
MAX_TEXT = 200
MAX_OTHER_METRICS = 60
WORD_JOINER = "\u2060"  # invisible; it ends the words GitHub's filters look for
# What GitHub turns into a mention, a team, an issue or commit reference or an autolink,
# each broken by a word joiner (GitHub matches these in the rendered text, so Markdown
# escapes alone do not stop them).
_FILTERED = re.compile(r"(?<=[@#])|(?<=\bwww)(?=\.)|(?<=:)(?=//)|(?<=\bGH)(?=-)", re.IGNORECASE)
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark


def inert(value: object) -> str:
    """Untrusted text made safe to show in Markdown, on one line, in a table cell or not."""
    text = "".join(_visible(ch) for ch in " ".join(str(value).split()))
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "…"
    return _PUNCTUATION.sub(r"\\\1", _FILTERED.sub(WORD_JOINER, text))


def _visible(ch: str) -> str:
    """Control, format (bidi, zero-width), surrogate and private-use characters become
    U+FFFD, so that nothing invisible can reorder or hide what a reviewer reads."""
    return "\ufffd" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") else ch


def render_comment(report: dict) -> str:
    """The whole comment, cut down to fit GitHub's size limit if it must be."""
    required = [_header(report), _verdict(report), _gate(report), _params(report)]
    optional = [
        _served_traffic(report),
        _metrics(report),
        _sources(report),
        _stages(report),
        _curves(report),
        _other_metrics(report),
    ]
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
    head = f"**{inert(pr['head_name'])}**" if pr["head_name"] else "this change"
    where = f"{head} against **{inert(pr['base_name'])}**"
    data = report["data"]
    if data["corpus"] is None:
        return f"{title}\n\n{where}"
    if data["corpus"] == "demo":
        source = "the public demo data (seeded generator)"
        if not data["remote"]:
            source += "; this run had no DVC remote (a fork PR, or none configured)"
    else:
        source = f"corpus {inert(data['corpus'])}"
        source += " from the DVC remote" if data["remote"] else ", no DVC remote"
    return f"{title}\n\n{where} · data: {source}"


def _verdict(report: dict) -> str:
    verdict = report["verdict"]
    lines = [f"**Verdict: {verdict['decision']}**", "", merge_effect(report), ""]
    lines += [f"- {inert(reason)}" for reason in verdict["reasons"]]
    lines += [f"- note: {inert(caveat)}" for caveat in verdict["caveats"]]
    lines += _rules(verdict.get("rules"))
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
            d = decimals(c["champion"], c["candidate"])
            lines.append(
                f"| {COMPARED[name]} | {c['champion']:.{d}f} | {c['candidate']:.{d}f} | "
                f"{c['delta']:+.{d}f} | {c['low']:+.{d}f} to {c['high']:+.{d}f} |"
            )
    return "\n".join(lines)


def merge_effect(report: dict) -> str:
    """One line on what merging this pull request does to what is served."""
    base = inert(report["pull_request"]["base_name"])
    trained = any(s["stage"] == "train" and s["state"] == "reran" for s in report["stages"])
    if not trained:
        return "Merging changes nothing in serving: this change does not retrain the model."
    decision = report["verdict"]["decision"]
    if decision == "promote":
        return (
            "Merging promotes the new model to staging: the promote job rebuilds and judges it "
            f"again against {base}'s; production follows by hand once staging is healthy."
        )
    return (
        f"Merging changes nothing in serving: the promote job would judge the new model "
        f"against {base}'s the same way ({decision}), and staging keeps what it serves."
    )


def _served_traffic(report: dict) -> str:
    """The shadow run: what this change would change for the traffic already served. Sites
    only (registered domains, defanged), never a URL: served URLs are users' browsing."""
    served = report.get("served_traffic")
    if served is None:
        return ""
    title = "### Served traffic (shadow run)"
    if served["status"] != "compared":
        return f"{title}\n\n{inert(served['status'])}."
    base = inert(report["pull_request"]["base_name"])
    rate, new, cleared = served["flag_rate"], served["newly_flagged"], served["newly_cleared"]
    lines = [title, "", _served_sentence(served), ""]
    lines += [
        f"| {served['urls']:,} served URLs | served ({base}) | this PR |",
        "|---|---:|---:|",
        f"| flagged | {served['flagged']['served']:,} | {served['flagged']['candidate']:,} |",
        f"| flag rate | {rate['served']:.2%} | {rate['candidate']:.2%} |",
        f"| threshold | {served['thresholds']['served']:.4f} | "
        f"{served['thresholds']['candidate']:.4f} |",
        "",
        f"Flag rate change {rate['change']:+.2%} ({rate['confidence']:.0%} interval "
        f"{rate['low']:+.2%} to {rate['high']:+.2%}); the two agree on "
        f"{served['agreement']:.2%} of URLs. Newly flagged: {new['urls']:,} URLs on "
        f"{new['sites']:,} sites, {new['allow_listed_sites']:,} of them on the allow list "
        f"(probable false positives). Newly cleared: {cleared['urls']:,} URLs on "
        f"{cleared['sites']:,} sites.",
    ]
    for heading, part in (("newly flagged", new), ("newly cleared", cleared)):
        if part["top"]:
            lines += ["", f"| sites {heading} | URLs | allow list |", "|---|---:|---|"]
            lines += [
                f"| {inert(_defanged(row['site']))} | {row['urls']:,} | "
                f"{'yes' if row['allow_listed'] else ''} |"
                for row in part["top"]
            ]
    if served["by_kind"]:
        lines += ["", "| kind of site | URLs | flagged, served | flagged, this PR |"]
        lines += ["|---|---:|---:|---:|"]
        lines += [
            f"| {inert(_defanged(row['kind']))} | {row['urls']:,} | {row['served']:.2%} | "
            f"{row['candidate']:.2%} |"
            for row in served["by_kind"]
        ]
    return "\n".join(lines)


def _served_sentence(served: dict) -> str:
    """The plain-language line: sites a day where the window's times say how long it is."""
    new, cleared = served["newly_flagged"], served["newly_cleared"]
    try:
        first, last = (datetime.fromisoformat(stamp) for stamp in served.get("period") or ())
        days = (last - first).total_seconds() / 86_400
    except (ValueError, TypeError):  # no times in the traffic files, or not two of them
        days = None
    if days and days >= 1:
        return (
            f"This change would block {_count(new['sites'] / days)} more sites a day, "
            f"{_count(new['allow_listed_sites'] / days)} of them on the allow list, and "
            f"unblock {_count(cleared['sites'] / days)} (the window spans {days:,.1f} days)."
        )
    return (
        f"In this window this change would block {new['sites']:,} more sites, "
        f"{new['allow_listed_sites']:,} of them on the allow list, and unblock "
        f"{cleared['sites']:,}."
    )


def _count(value: float) -> str:
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def _defanged(site: str) -> str:
    """`example[.]com`: a site name that no reader's client turns into a link."""
    return site.replace(".", "[.]")


def _rules(rules: dict | None) -> list[str]:
    """The promotion rules the PR would change: they do not judge it, the base's do."""
    if not rules or not rules["changed"]:
        return []
    judge = inert(rules["judged_by"])
    lines = [
        f"- note: this PR changes the promotion rules: judged by {judge}'s",
        "",
        f"| rule | {judge} (used) | this PR |",
        "|---|---:|---:|",
    ]
    lines += [
        "| " + " | ".join(inert(_compact(row[key])) for key in ("name", "base", "head")) + " |"
        for row in rules["changed"]
    ]
    return lines + [""]


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
    named = {k.split(".")[0] for k in evaluate if k.count(".") == 1} - {"operating_point"}
    # test, temporal, then evaluate.source_slices by name: the same order in every report
    slices = [name for name in ("test", "temporal") if name in named]
    for slice_name in slices + sorted(named - set(slices)):
        for key, label in {"n": "URLs", **METRIC_COLUMNS}.items():
            entry = evaluate.get(f"{slice_name}.{key}")
            if entry:
                lines.append(f"| {inert(slice_name)} | {label} | {_cells(entry)} |")
    threshold = evaluate.get("operating_point.threshold")
    if threshold:
        lines.append(f"| all | operating threshold (thr) | {_cells(threshold)} |")
    return "\n".join(lines)


def _sources(report: dict) -> str:
    """Each source's rate at the operating threshold on the test slice, the worst benign
    source first: what production's false alarms and misses will look like."""
    evaluate = report.get("metrics", {}).get("metrics/evaluate.json") or {}
    rows = []
    for key, entry in evaluate.items():
        parts = key.split(".")
        rate = parts[3] if len(parts) == 4 and parts[:2] == ["test", "by_source"] else ""
        if rate in ("fpr_at_operating", "tpr_at_operating"):
            rows.append((rate, parts[2], entry))
    if not rows:
        return ""

    def order(row):  # benign by FPR, highest first; then phishing by TPR, lowest first
        kind, _, entry = row
        value = entry.get("new") if entry.get("new") is not None else entry.get("old") or 0
        return (0, -value) if kind == "fpr_at_operating" else (1, value)

    base = inert(report["pull_request"]["base_name"])
    lines = [
        "### Per source at the operating threshold (test slice)",
        "",
        f"| source | rate | {base} | this PR | Δ |",
        "|---|---|---:|---:|---:|",
    ]
    for kind, source, entry in sorted(rows, key=order):
        label = "benign, flagged (FPR)" if kind == "fpr_at_operating" else "phishing, caught (TPR)"
        lines.append(f"| {inert(source)} | {label} | {_cells(entry)} |")
    return "\n".join(lines)


def _other_metrics(report: dict) -> str:
    """Everything else DVC tracks as metrics that changed: per-feed rates, stage counts,
    training history."""
    rows = []
    for path, entries in sorted(report.get("metrics", {}).items()):
        for key, entry in sorted(entries.items()):
            main_table = path == "metrics/evaluate.json" and (
                key.count(".") == 1 or (key.startswith("test.by_source.") and "_at_op" in key)
            )
            if main_table or not changed(entry):
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
        state = STATE_ICONS[stage["state"]]
        lines.append(f"| {inert(stage['stage'])} | {state} | {inert(why)} |")
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
    if run.get("run_id"):
        parts.append(
            f"MLflow run {inert(run['run_id'])} (on the tracking server, or in the local store "
            "that CI uploads as the `mlflow-store` artifact)"
        )
    if cut:
        parts.append(
            "Some sections were left out to stay under GitHub's comment size limit; the full "
            "report is in the `angler-report` artifact"
        )
    parts.append("Generated by `angler report`")
    return "<sub>" + " · ".join(parts) + "</sub>"


def changed(entry: dict) -> bool:
    """A metric whose value moved by more than float rounding."""
    old, new, diff = entry.get("old"), entry.get("new"), entry.get("diff")
    if not isinstance(diff, int | float) or not diff:
        return False
    numbers = isinstance(old, int | float) and isinstance(new, int | float)
    return not (numbers and math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-12))


def decimals(*values: object) -> int:
    """Four decimals, or more (up to ten) where four would show different values alike."""
    numbers = {value for value in values if isinstance(value, float) and math.isfinite(value)}
    digits = 4
    while digits < 10 and len({round(value, digits) for value in numbers}) < len(numbers):
        digits += 1
    return digits


def _cells(entry: dict) -> str:
    """base | PR | Δ: counts as integers, rates and scores to four decimals or as many as
    it takes to tell the two values apart."""
    old, new, diff = entry.get("old"), entry.get("new"), entry.get("diff")
    whole = all(isinstance(value, int) for value in (old, new) if value is not None)
    digits = decimals(old, new)
    number = "{:,}" if whole else f"{{:.{digits}f}}"
    sign = "{:+,}" if whole else f"{{:+.{digits}f}}"

    def show(value, fmt):
        return (
            fmt.format(value)
            if isinstance(value, int | float)
            else inert(value if value is not None else "–")
        )

    return f"{show(old, number)} | {show(new, number)} | {show(diff, sign)}"


def _compact(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
