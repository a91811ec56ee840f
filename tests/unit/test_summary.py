"""`angler summary`, the block `make demo` ends with: on the committed demo run's reports and
metrics its output is the block the README shows, line for line."""

import subprocess
import sys
from pathlib import Path

from helpers.paths import REPO_ROOT

ANGLER = str(Path(sys.executable).with_name("angler"))


def readme_block() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split("`make demo` ends with it:\n\n```\n", 1)[1]
    return after.split("```", 1)[0]


def test_summary_of_the_committed_run_is_the_readmes_block():
    result = subprocess.run(
        [ANGLER, "summary", "--reports", "reports", "--metrics", "metrics/evaluate.json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == readme_block()


def test_summary_before_any_run_says_what_to_do(tmp_path):
    result = subprocess.run(
        [ANGLER, "summary", "--reports", str(tmp_path), "--metrics", str(tmp_path / "m.json")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines() == [
        f"no pipeline reports in {tmp_path}/: run `dvc repro` first",
        "",
        f"no evaluation metrics at {tmp_path / 'm.json'}",
    ]
