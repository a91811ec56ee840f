"""The README's example comment is current (issue 29): it is the renderer's output for the
report.json of a real run kept in bench/results/example_comment.json, and that run's base
is main as committed. `python bench/example_comment.py` regenerates both."""

import json
import subprocess
import sys

import pytest
import yaml

from angler.reports import flatten

from helpers.paths import REPO_ROOT

EXAMPLE = REPO_ROOT / "bench" / "results" / "example_comment.json"


@pytest.fixture(scope="module")
def report() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_the_readme_shows_the_kept_report_as_rendered_today():
    done = subprocess.run(
        [sys.executable, "bench/example_comment.py", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "README.md's example comment is current\n"


def test_its_base_has_mains_committed_metrics(report):
    committed = flatten(json.loads((REPO_ROOT / "metrics" / "evaluate.json").read_text()))
    shown = report["metrics"]["metrics/evaluate.json"]
    assert {"test.roc_auc", "test.tpr_at_fpr_1pct"} <= set(shown)
    for name, values in shown.items():
        assert values["old"] == committed.get(name), name


def test_its_base_has_mains_params(report):
    params = flatten(yaml.safe_load((REPO_ROOT / "params.yaml").read_text()))
    assert report["params"], "the example changes a param"
    for change in report["params"]:
        assert change["old"] == params[change["name"]], change["name"]
