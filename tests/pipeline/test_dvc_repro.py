"""`dvc repro` on demo data in a copy of the repository: everything runs, and a second run
reruns nothing. (A train param change rerunning only the model stages is played as a pull
request in test_pr_loop.py.)"""

import os
import re
import subprocess
import sys

import pytest
from git_repo import copy_repo

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

STAGES = ["ingest", "label", "split", "featurize", "validate", "train", "evaluate", "export"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return copy_repo(
        tmp_path_factory.mktemp("repo"),
        **{"data.demo_size": 3000, "validate.min_rows": 500, "train.epochs": 2},
    )


def dvc(repo, *args) -> str:
    env = {**os.environ, "ANGLER_SPARK_LOG_LEVEL": "ERROR"}
    env.pop("MLFLOW_TRACKING_URI", None)  # the copy's own ./mlflow.db, as on a fresh clone
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dvc"), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '([a-z]+)'", output)


def test_repro_runs_every_stage_then_nothing(repo):
    assert stages_run(dvc(repo, "repro")) == STAGES
    lock = (repo / "dvc.lock").read_text()

    second = dvc(repo, "repro")
    assert stages_run(second) == []
    assert "Data and pipelines are up to date" in second
    assert (repo / "dvc.lock").read_text() == lock
    assert "up to date" in dvc(repo, "status")
