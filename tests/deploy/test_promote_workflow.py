"""Play the promote workflow on merges to main, with a local DVC remote, a SQLite MLflow
registry, a model-store folder and a bare repository as `origin`: a better model merged is
promoted (overlays, store and alias agree), and a `git revert` of the promotion rolls back
and moves the alias back."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from angler.deploy.model_store import directory_digest
from angler.deploy.serving import MODEL_ENV, read_promotion

from helpers.git_repo import copy_repo, git
from helpers.paths import REPO_ROOT, SMALL_DEMO
from helpers.workflow_runner import EXPRESSION, run_job

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "promote.yml"
SET_UP = ("Set up the environment",)
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> dict[str, str]:
    """The shared services a promotion needs, as the repository secrets name them."""
    root = tmp_path_factory.mktemp("services")
    return {
        "secrets.DVC_REMOTE_URL": str(root / "dvc-remote"),
        "secrets.MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "secrets.ANGLER_MODEL_STORE": str(root / "model-store"),
    }


def run(repo: Path, shared: dict, *command: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {
        "MLFLOW_TRACKING_URI": shared["secrets.MLFLOW_TRACKING_URI"],
        "PATH": f"{BIN}:{env['PATH']}",
    }
    env["ANGLER_MODEL_STORE"] = shared["secrets.ANGLER_MODEL_STORE"]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory, shared) -> Path:
    """main with a pipeline run pushed to the remote and its model promoted and champion."""
    root = tmp_path_factory.mktemp("promote")
    main = {
        **SMALL_DEMO,
        "train.epochs": 2,
        "train.early_stopping_patience": 1,
        "promote.bootstrap_samples": 300,
    }
    repo = copy_repo(root / "angler", **main)
    git(root, "init", "-q", "--bare", "origin.git")
    git(repo, "remote", "add", "origin", str(root / "origin.git"))
    run(
        repo,
        shared,
        "dvc",
        "remote",
        "add",
        "--local",
        "--default",
        "ci",
        shared["secrets.DVC_REMOTE_URL"],
    )
    run(repo, shared, "dvc", "repro")
    run(repo, shared, "dvc", "push", "--run-cache")
    for env in ("staging", "production"):
        run(repo, shared, "angler", "promote", "--env", env)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main's first model, promoted")
    run(repo, shared, "angler", "champion")
    git(repo, "push", "-q", "origin", "main")
    return repo


def play_push(repo: Path, shared: dict, before: str) -> dict:
    context = {
        name: "" for name in EXPRESSION.findall(WORKFLOW.read_text()) if name.startswith("secrets.")
    }
    context |= shared | {"github.event.before": before}
    return {step.name: step for step in run_job(WORKFLOW, "promote", repo, context, SET_UP)}


def pinned(repo: Path, env: str = "production"):
    return read_promotion(repo / "k8s" / "overlays" / env / MODEL_ENV).stable


def champion(shared: dict) -> int:
    import mlflow

    client = mlflow.MlflowClient(shared["secrets.MLFLOW_TRACKING_URI"])
    return int(client.get_model_version_by_alias("angler", "champion").version)


def test_a_better_model_merged_is_promoted_then_a_revert_rolls_back(repo, shared):
    first = pinned(repo)
    assert champion(shared) == first.version

    before = git(repo, "rev-parse", "HEAD")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["epochs"] = 3  # the merged PR: one more epoch, a better model
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    git(repo, "commit", "-qam", "Merge pull request #8: one more epoch")
    steps = play_push(repo, shared, before)
    failed = {name: step.output[-3000:] for name, step in steps.items() if step.returncode}
    assert not failed, failed

    report = json.loads((repo / "comment" / "report.json").read_text())
    assert report["verdict"]["decision"] == "promote", report["verdict"]
    promoted = pinned(repo)
    assert promoted.version != first.version and pinned(repo, "staging") == promoted
    store = Path(shared["secrets.ANGLER_MODEL_STORE"])
    assert directory_digest(store / str(promoted.version)) == promoted.digest
    assert champion(shared) == promoted.version
    log = git(repo, "log", "--format=%s", "-2", "origin/main").splitlines()
    assert log == [
        f"promote angler version {promoted.version} to staging and production",
        "pipeline outputs of the merge (verdict: promote)",
    ]
    assert git(repo, "show", "--name-only", "--format=", "origin/main").splitlines() == [
        "k8s/overlays/production/model.env",
        "k8s/overlays/staging/model.env",
    ]

    before = git(repo, "rev-parse", "HEAD")
    git(repo, "revert", "--no-edit", "HEAD")
    steps = play_push(repo, shared, before)
    assert steps["Pipeline (restored from the PR run's cache)"].returncode is None  # skipped
    assert steps["Move the registry's champion alias to what production pins"].returncode == 0
    assert pinned(repo) == first and champion(shared) == first.version
    assert directory_digest(store / str(first.version)) == first.digest
