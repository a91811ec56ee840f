"""The PR comment renderer: untrusted text stays text on GitHub, and the comment fits.

Checked on the HTML of GitHub's own Markdown parser (cmark-gfm) and against the filters
GitHub runs on the rendered text (mentions, references, autolinks)."""

import pytest

from angler.review.github_comment import MARKER, MAX_BODY
from angler.review.markdown import inert, render_comment

from helpers.github_markdown import BIDI, WORD_JOINER, filtered, render, shown
from helpers.reports import sample_report as report

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<b>bold</b> <details>",
    "$(id)",
    "`rm -rf`",
    "a | b",
    "@octocat",
    "hi @org/team",
    "see #1 and owner/repo#2",
    "GH-3",
    "www.evil.example/login",
    "https://evil.example/x",
    "user@evil.example",
    "[x](javascript:y)",
    "![tracker](https://evil.example/pixel.png)",
    "$x^2$ and $$y$$",
    "&#64;octocat &amp; &lt;b&gt;",
    "# Heading\n- item\n> quote",
    "1. one",
    "*em* _em_ ~~gone~~ **strong**",
    "\\@escaped",
    "it's",
]
INVISIBLE = ["evil\u202egpj.exe", "zero\u200bwidth", "join\u2060@octocat", "bom\ufeff"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_renders_as_the_same_plain_text(value):
    page = render(inert(value))
    assert page.tags == ["p"]
    assert shown(page.text).strip() == " ".join(value.split())
    assert filtered(page.text) == []


@pytest.mark.parametrize("value", INVISIBLE)
def test_invisible_characters_are_shown_as_replacement_marks(value):
    page = render(inert(value))
    assert not BIDI.search(page.text)
    assert "\ufffd" in page.text
    assert filtered(page.text) == []


def test_the_word_joiner_is_the_only_character_added():
    assert (
        shown(inert("@a #1 www.x GH-2 http://y")).replace("\\", "") == "@a #1 www.x GH-2 http://y"
    )
    assert inert("plain words 123").count(WORD_JOINER) == 0


def test_hostile_values_everywhere_in_the_comment_stay_text():
    params = [
        {"name": f"featurize.{i}", "old": "login", "new": value} for i, value in enumerate(HOSTILE)
    ]
    pr = report()["pull_request"] | {"head_name": "$(id)<img src=x> @octocat #9"}
    stages = [{"stage": "<b>x</b> @team", "state": "reran", "reasons": ["www.evil.example"]}]
    gate = {
        "ran": True,
        "success": False,
        "checked": 3,
        "failed": [
            {
                "suite": "@x",
                "expectation": "#1",
                "column": "<i>c</i>",
                "observed": "GH-1",
                "details": {"k": "![i](http://t/p.png)"},
            }
        ],
    }
    verdict = report()["verdict"] | {"reasons": ["@octocat please merge"], "caveats": ["#12"]}
    rate = {"old": 0.1, "new": 0.2, "diff": 0.1}
    metrics = {"metrics/evaluate.json": {"test.by_source.@evil.fpr_at_operating": rate}}
    body = render_comment(
        report(
            params=params,
            pull_request=pr,
            stages=stages,
            gate=gate,
            verdict=verdict,
            metrics=metrics,
            mlflow={"run_id": "@r"},
        )
    )
    page = render(body)
    allowed = {"h2", "h3", "p", "strong", "em", "table", "thead", "tbody", "tr", "th", "td"}
    allowed |= {"ul", "li", "sub", "code", "pre", "details", "summary"}
    assert set(page.tags) <= allowed, set(page.tags) - allowed
    assert filtered(page.text) == []
    assert not BIDI.search(page.text)
    param_rows = [row for row in page.rows if row and row[0].startswith("featurize.")]
    assert len(param_rows) == len(HOSTILE) and all(len(row) == 3 for row in param_rows)
    assert [shown(row[2]) for row in param_rows] == [" ".join(v.split()) for v in HOSTILE]
    assert "$(id)<img src=x> @octocat #9 against main" in shown(page.text)


def test_comment_starts_with_the_marker_and_shows_the_change():
    body = render_comment(report())
    assert body.startswith(MARKER + "\n")
    assert ["train.epochs", "4", "3"] in render(body).rows
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


def test_the_worst_benign_source_comes_first_with_the_threshold():
    rate = "test.by_source.{}.{}_at_operating"
    metrics = {
        "test.worst_benign_fpr": {"old": 0.004, "new": 0.031, "diff": 0.027},
        "operating_point.threshold": {"old": 0.81, "new": 0.77, "diff": -0.04},
        rate.format("lists", "fpr"): {"old": 0.001, "new": 0.002, "diff": 0.001},
        rate.format("crawl", "fpr"): {"old": 0.004, "new": 0.031, "diff": 0.027},
        rate.format("jpcert", "tpr"): {"old": 0.9, "new": 0.91, "diff": 0.01},
        rate.format("phishtank-2021", "tpr"): {"old": 0.7, "new": 0.6, "diff": -0.1},
    }
    verdict = {
        "decision": "reject",
        "reasons": ["benign source crawl is flagged 3.10% of the time at the operating threshold"],
        "comparisons": {},
        "caveats": [],
    }
    body = render_comment(report(metrics={"metrics/evaluate.json": metrics}, verdict=verdict))
    rows = [row for row in render(body).rows if row[1].startswith(("benign", "phishing"))]
    assert [row[0] for row in rows] == ["crawl", "lists", "phishtank-2021", "jpcert"]
    assert "| test | worst FPR@thr | 0.0040 | 0.0310 | +0.0270 |" in body
    assert "| all | operating threshold (thr) | 0.8100 | 0.7700 | -0.0400 |" in body
    assert "Verdict: reject" in render(body).text
    assert "crawl is flagged 3.10% of the time" in shown(render(body).text)


@pytest.mark.parametrize(
    ("decision", "stages", "effect"),
    [
        ("promote", [{"stage": "train", "state": "reran", "reasons": []}], "Merging promotes"),
        ("hold", [{"stage": "train", "state": "reran", "reasons": []}], "the same way (hold)"),
        ("reject", [{"stage": "train", "state": "reran", "reasons": []}], "the same way (reject)"),
        ("hold", [{"stage": "train", "state": "cached", "reasons": []}], "does not retrain"),
    ],
)
def test_the_comment_says_what_merging_does(decision, stages, effect):
    verdict = {"decision": decision, "reasons": [], "comparisons": {}, "caveats": []}
    body = render_comment(report(verdict=verdict, stages=stages))
    (line,) = [line for line in body.splitlines() if line.startswith("Merging ")]
    assert effect in line
    assert ("changes nothing in serving" in line) == (decision != "promote" or "retrain" in line)


def test_deltas_show_the_digits_that_tell_the_values_apart_and_noise_is_no_change():
    metrics = {
        "metrics/evaluate.json": {
            "test.roc_auc": {"old": 0.96543210, "new": 0.96543217, "diff": 7e-8},
            "test.n": {"old": 5000, "new": 5000, "diff": 0},
        },
        "reports/train.json": {
            "history.val_auc": {"old": 0.5, "new": 0.5 + 2**-50, "diff": 2**-50},  # rounding
            "history.loss": {"old": 0.31, "new": 0.30, "diff": -0.01},
        },
    }
    body = render_comment(report(metrics=metrics))
    assert "| test | ROC AUC | 0.9654321 | 0.9654322 | +0.0000001 |" in body  # 7 digits
    assert "| test | URLs | 5,000 | 5,000 | +0 |" in body
    text = shown(render(body).text)
    assert "Other metrics that changed (1)" in text and "history.loss" in text
    assert "history.val_auc" not in text


def test_slices_come_in_one_order_whatever_order_the_metrics_diff_gives():
    entry = {"old": 0.9, "new": 0.91, "diff": 0.01}
    keys = ["zeta.roc_auc", "temporal.roc_auc", "esdaung.roc_auc", "test.roc_auc"]
    orders = set()
    for ordered in (keys, keys[::-1]):
        body = render_comment(
            report(metrics={"metrics/evaluate.json": dict.fromkeys(ordered, entry)})
        )
        orders.add(tuple(row[0] for row in render(body).rows if row[1:2] == ["ROC AUC"]))
    assert orders == {("test", "temporal", "esdaung", "zeta")}


def test_the_head_is_named_by_its_branch_else_its_commit(tmp_path):
    from angler.review.report import checkout_name

    from helpers.git_repo import git

    assert checkout_name(tmp_path) == ""  # not a git checkout: the comment says "this change"
    git(tmp_path, "init", "-q", "-b", "more-epochs")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "x")
    assert checkout_name(tmp_path) == "more-epochs"
    git(tmp_path, "switch", "-q", "--detach")  # CI checks out the merge commit
    assert checkout_name(tmp_path) == git(tmp_path, "rev-parse", "--short", "HEAD")


def test_the_served_traffic_section_says_what_users_would_see_change():
    from helpers.reports import served_traffic_sample

    body = render_comment(report(served_traffic=served_traffic_sample()))
    text = shown(render(body).text)
    assert "Served traffic (shadow run)" in text
    # 7 sites newly flagged, 2 allow-listed, 1 cleared, over a window of 7 days
    assert (
        "This change would block 1.0 more sites a day, 0.3 of them on the allow list, and "
        "unblock 0.1 (the window spans 7.0 days)." in text
    )
    assert "Flag rate change +0.70% (95% interval +0.10% to +1.30%)" in text
    rows = render(body).rows
    assert ["shop[.]blogspot[.]com", "3", ""] in rows and ["bank[.]example", "1", "yes"] in rows
    assert ["platform blogspot[.]com", "30", "0.00%", "10.00%"] in rows
    assert "shop.blogspot.com" not in text  # defanged: no client makes it a link


def test_a_window_without_times_is_described_as_a_window():
    from helpers.reports import served_traffic_sample

    served = served_traffic_sample() | {"period": None}
    text = shown(render(render_comment(report(served_traffic=served))).text)
    assert "In this window this change would block 7 more sites, 2 of them" in text
    unread = {"status": "no served traffic"}
    assert "no served traffic." in shown(render(render_comment(report(served_traffic=unread))).text)
