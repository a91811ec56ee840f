"""The PR comment renderer: untrusted text stays text, and the comment fits on GitHub."""

import html

from angler.review.github_comment import MARKER, MAX_BODY
from angler.review.markdown import inert, render_comment

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "$(id)",
    "`rm -rf`",
    "a | b",
    "@octocat",
    "[x](javascript:y)",
]


def report(**overrides) -> dict:
    base = {
        "pull_request": {
            "base": "abc",
            "base_name": "main",
            "head_name": "feature",
            "number": "7",
            "remote": False,
            "base_sha": "0123456789",
        },
        "data": {"corpus": "demo", "remote": False},
        "params": [{"name": "train.epochs", "old": 4, "new": 3}],
        "stages": [
            {"stage": "train", "state": "reran", "reasons": ["params changed: train.epochs"]}
        ],
        "gate": {"ran": True, "success": True, "checked": 41, "failed": []},
        "completed": True,
        "metrics": {
            "metrics/evaluate.json": {"test.roc_auc": {"old": 0.99, "new": 0.98, "diff": -0.01}}
        },
        "verdict": {
            "decision": "hold",
            "reasons": ["no metric is better"],
            "comparisons": {},
            "caveats": [],
        },
    }
    return base | overrides


def cells(line: str) -> list[str]:
    return line.strip().strip("|").split("|")


def test_hostile_text_renders_as_text():
    for value in HOSTILE:
        shown = inert(value)
        assert html.unescape(shown) == value
        assert not set(shown) & set("<>`|$@[]")


def test_hostile_params_and_branch_stay_inert_in_the_comment():
    params = [
        {"name": f"featurize.{i}", "old": "login", "new": value} for i, value in enumerate(HOSTILE)
    ]
    pr = report()["pull_request"] | {"head_name": "$(id)<img src=x>"}
    body = render_comment(report(params=params, pull_request=pr))
    assert "<img" not in body and "$(id)" not in body and "@octocat" not in body
    rows = [line for line in body.splitlines() if line.startswith("| featurize.")]
    assert len(rows) == len(HOSTILE) and all(len(cells(row)) == 3 for row in rows)
    assert "PR #7: **$(id)<img src=x>** against **main**" in html.unescape(body)


def test_comment_starts_with_the_marker_and_shows_the_change():
    body = render_comment(report())
    assert body.startswith(MARKER + "\n")
    assert "| train.epochs | 4 | 3 |" in html.unescape(body)
    assert "| test | ROC AUC | 0.9900 | 0.9800 | -0.0100 |" in body


def test_oversized_comment_is_cut_to_fit_keeping_the_verdict_and_gate():
    many = {
        f"test.by_source.feed{i}.x{'y' * 150}": {"old": 0.1, "new": 0.2, "diff": 0.1}
        for i in range(3000)
    }
    stages = [{"stage": f"s{i}", "state": "reran", "reasons": ["x" * 190]} for i in range(400)]
    body = render_comment(report(metrics={"reports/x.json": many}, stages=stages))
    assert len(body) <= MAX_BODY
    assert "**Verdict: hold**" in body and "### Data checks" in body
    assert "left out to stay under GitHub's comment size limit" in body
