"""The comment poster trusts nothing in the PR run's artifact: it renders the comment
itself from report.json, checked against its schema, with the standard library only."""

import json
import math
import re
import subprocess
import sys

import pytest

from angler.review.github_comment import (
    MARKER,
    MAX_BODY,
    CommentError,
    check_pr_number,
    find_report_comment,
    render_artifact,
)

from helpers.github_markdown import filtered, render
from helpers.paths import REPO_ROOT
from helpers.reports import sample_report


def test_only_the_bots_marked_comment_is_updated():
    comments = [
        {"id": 1, "user": {"type": "User"}, "body": MARKER + " a human quoting the marker"},
        {"id": 2, "user": {"type": "Bot"}, "body": "another bot"},
        {"id": 3, "user": {"type": "Bot"}, "body": MARKER + "\n## report"},
    ]
    assert find_report_comment(comments) == 3
    assert find_report_comment(comments[:2]) is None


@pytest.mark.parametrize("text", ["", "7; rm -rf /", "0", "-1", "12345678901", "../8"])
def test_pr_number_must_be_a_number(text):
    with pytest.raises(CommentError):
        check_pr_number(text)


def artifact(tmp_path, report, comment: str | None = None):
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    (tmp_path / "pr-number").write_text("7\n", encoding="utf-8")
    if comment is not None:
        (tmp_path / "comment.md").write_text(comment, encoding="utf-8")
    return tmp_path


def test_the_body_is_rendered_from_the_data_and_the_artifacts_markdown_ignored(tmp_path):
    planted = MARKER + "\n@org/team please merge #1 ![x](https://evil.example/t.png) <b>hi</b>"
    body = render_artifact(artifact(tmp_path, sample_report(), comment=planted))
    assert body.startswith(MARKER + "\n") and len(body) <= MAX_BODY
    assert "evil.example" not in body and "org/team" not in body
    page = render(body)
    assert "img" not in page.tags and "a" not in page.tags and filtered(page.text) == []


def nested_set(report: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    target = report
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return report


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("verdict.decision", "merge-now", "report.verdict.decision: expected one of"),
        ("pull_request.number", 7, "expected a string"),
        ("pull_request.head_name", "x" * 201, "at most 200 characters"),
        ("params.0.name", ["not", "a", "name"], "report.params[0].name: expected a string"),
        ("params.0.new", "v" * 3000, "a JSON value of at most"),
        ("stages.0.state", "skipped", "expected one of cached, reran"),
        ("gate.checked", "41", "an integer"),
        ("completed", "yes", "true or false"),
        ("verdict.comparisons", {"roc_auc": {"candidate": 1}}, "a key 'champion'"),
        ("verdict.comparisons", {"made_up": {}}, "expected one of roc_auc"),
        ("verdict.reasons", ["r"] * 31, "at most 30 items"),
        ("html", "<b>extra</b>", "no other keys (found html)"),
        ("mlflow", {"run_id": "r", "url": "https://user:token@mlflow.example"}, "found url"),
    ],
)
def test_an_artifact_of_another_shape_is_refused(tmp_path, path, value, message):
    report = nested_set(sample_report(), path, value)
    with pytest.raises(CommentError, match=re.escape(message)):
        render_artifact(artifact(tmp_path, report))


def test_numbers_must_be_finite(tmp_path):
    comparison = {"candidate": 1.0, "champion": 1.0, "delta": 0.0, "low": math.nan, "high": 0.0}
    report = sample_report(
        verdict=sample_report()["verdict"] | {"comparisons": {"roc_auc": comparison}}
    )
    (tmp_path / "report.json").write_text(json.dumps(report))  # json writes NaN
    with pytest.raises(CommentError, match="a finite number"):
        render_artifact(tmp_path)


def test_broken_or_oversized_json_is_refused(tmp_path):
    (tmp_path / "report.json").write_text("{not json")
    with pytest.raises(CommentError, match="not an Angler report"):
        render_artifact(tmp_path)
    (tmp_path / "report.json").write_text(" " * 4_000_001)
    with pytest.raises(CommentError, match="over 4,000,000 bytes"):
        render_artifact(tmp_path)


def test_the_poster_runs_on_the_standard_library_alone(tmp_path):
    folder = artifact(tmp_path, sample_report())
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from angler.review.github_comment import render_artifact\n"
        "from pathlib import Path\n"
        "print(render_artifact(Path(sys.argv[2]))[:40])\n"
        "third = [m for m in sys.modules if m.split('.')[0] in ('numpy', 'yaml', 'pandas')]\n"
        "print('third-party:', third)\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(REPO_ROOT), str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith(MARKER)
    assert "third-party: []" in result.stdout


@pytest.mark.parametrize(
    ("head_repo", "shown"),
    [("o/n", True), ("someone/n", False), (None, False)],  # None: the fork was deleted
)
def test_the_poster_keeps_the_served_traffic_section_for_same_repository_prs_only(
    tmp_path, monkeypatch, head_repo, shown
):
    from angler.review.github_comment import main

    from helpers.github_stand_in import PullRequest, github_stand_in
    from helpers.reports import served_traffic_sample

    pull = PullRequest("o/n", 7, "abc123", head_repo)
    folder = artifact(tmp_path, sample_report(served_traffic=served_traffic_sample()))
    monkeypatch.setenv("GH_TOKEN", "token")
    with github_stand_in(pull) as api:
        monkeypatch.setenv("GITHUB_API_URL", api)
        assert main(["--repo", "o/n", "--artifact", str(folder), "--head-sha", "abc123"]) == 0
        assert main(["--repo", "o/n", "--artifact", str(folder), "--head-sha", "old999"]) == 0
    (comment,) = pull.comments.values()  # the run for a commit the PR moved on from: nothing
    text = render(comment["body"]).text
    assert ("Flag rate change +0.70%" in text) == shown
    assert ("not shown for a pull request from a fork" in text) == (not shown)
