"""What a skip means: under .ci/run (ANGLER_NO_SKIPS) a failure; on GitHub's runner, a line
of the job summary. Played on a throwaway test file with this suite's conftest as a plugin."""

import os
import subprocess
import sys

from helpers.paths import REPO_ROOT


def run_skipping_test(tmp_path, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\n"
        "def test_runs():\n    assert True\n\n"
        "@pytest.mark.skip(reason='no ../shared/data here')\n"
        "def test_needs_the_corpus():\n    pass\n"
    )
    clean = {
        k: v for k, v in os.environ.items() if k not in ("ANGLER_NO_SKIPS", "GITHUB_STEP_SUMMARY")
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest"]
    return subprocess.run(
        [*command, "--rootdir", str(tmp_path), str(tmp_path / "test_skips.py")],
        env=clean | {"PYTHONPATH": str(REPO_ROOT / "tests")} | env,
        capture_output=True,
        text=True,
    )


def test_the_job_summary_lists_each_skipped_test_with_its_reason(tmp_path):
    summary = tmp_path / "summary.md"
    result = run_skipping_test(tmp_path, GITHUB_STEP_SUMMARY=str(summary))
    assert result.returncode == 0, result.stdout
    assert summary.read_text() == (
        "### 1 tests skipped\n\n| test | reason |\n|---|---|\n"
        "| `test_skips.py::test_needs_the_corpus` | no ../shared/data here |\n"
    )


def test_under_ci_run_a_skip_is_a_failure(tmp_path):
    result = run_skipping_test(tmp_path, ANGLER_NO_SKIPS="1")
    assert result.returncode == 1
    assert "skipped where every test must run (ANGLER_NO_SKIPS): no ../shared/data here" in (
        result.stdout
    )
