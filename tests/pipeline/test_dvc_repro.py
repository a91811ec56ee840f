"""`dvc repro` on demo data in a copy of the repository: everything runs, a second run reruns
nothing, and a train param change reruns only train, evaluate and export."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import REPO_ROOT, write_params

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

STAGES = ["ingest", "label", "split", "featurize", "validate", "train", "evaluate", "export"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        if (REPO_ROOT / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, root / name)
    write_params(
        root / "params.yaml",
        **{"data.demo_size": 3000, "validate.min_rows": 500, "train.epochs": 2},
    )
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


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


def test_train_param_change_reruns_only_the_model_stages(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["epochs"] = 1
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    assert stages_run(dvc(repo, "repro")) == ["train", "evaluate", "export"]
    assert (repo / "models" / "angler" / "2" / "saved_model.pb").is_file()
