"""Play the promote workflow on merges to main (the scripts it calls, called here in its
order with its arguments), with a local DVC remote, a SQLite MLflow registry, a model-store
folder and a bare repository as `origin`: a better model merged is promoted (overlays, store
and alias agree), and a `git revert` of the promotion rolls back and moves the alias back."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from angler.deploy.model_store import directory_digest
from angler.deploy.serving import MODEL_ENV, read_promotion

from helpers.git_repo import copy_checkout, git
from helpers.paths import MAIN_PARAMS, REPO_ROOT, write_params
from helpers.workflow_runner import EXPRESSION, Job, Step, job_env, run_steps

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "promote.yml"
MODEL = "steps.kind.outputs.kind == 'model'"
# The job's `run:` steps, which `play_push` plays in this order (the first two set up the
# venv, which is this test run's own).
STEPS = [
    Step("make env"),
    Step('echo "$PWD/.venv/bin" >> "$GITHUB_PATH"'),
    Step(".github/scripts/promote-check.sh"),
    Step('.github/scripts/promote-kind.sh "$BEFORE_SHA"'),
    Step(".github/scripts/pipeline.sh --push", MODEL),
    Step('.github/scripts/promote-verdict.sh "$BEFORE_SHA" comment', MODEL),
    Step(".github/scripts/promote-commit.sh comment/report.json main", MODEL),
    Step("angler check-pins"),
    Step("angler champion --env production"),
]
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
def repo(reproduced_main, tmp_path_factory, shared) -> Path:
    """main with a pipeline run pushed to the remote and its model promoted and champion."""
    root = tmp_path_factory.mktemp("promote")
    repo = copy_checkout(reproduced_main, root / "angler")  # the data stages are cached
    fewer_epochs = {"train.epochs": 2, "train.early_stopping_patience": 1}
    write_params(repo / "params.yaml", **(MAIN_PARAMS | fewer_epochs))
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
    first = root / "first-verdict.json"  # main's history: its first model was approved
    first.write_text(json.dumps({"verdict": {"decision": "promote", "reasons": ["first"]}}))
    for env in ("staging", "production"):
        run(repo, shared, "angler", "promote", "--env", env, "--verdict", str(first))
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
    env = job_env(WORKFLOW, "promote", context)
    job = Job(repo, env)
    job.call(".github/scripts/promote-check.sh")
    kind = job.call(".github/scripts/promote-kind.sh", env["BEFORE_SHA"])
    model = bool(re.search(r"^kind=model$", kind.output, re.MULTILINE))  # no GITHUB_OUTPUT: stdout
    job.call(".github/scripts/pipeline.sh", "--push", when=model)
    job.call(".github/scripts/promote-verdict.sh", env["BEFORE_SHA"], "comment", when=model)
    job.call(".github/scripts/promote-commit.sh", "comment/report.json", "main", when=model)
    job.call("angler", "check-pins")
    job.call("angler", "champion", "--env", "production")
    return job.steps


def test_the_workflow_runs_the_steps_played_here():
    assert run_steps(WORKFLOW, "promote") == STEPS


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
        "k8s/approvals.json",
        "k8s/overlays/production/model.env",
        "k8s/overlays/staging/model.env",
    ]
    approved = json.loads((repo / "k8s" / "approvals.json").read_text())[str(promoted.version)]
    assert (
        approved["digest"] == promoted.digest
        and approved["reasons"] == report["verdict"]["reasons"]
    )

    before = git(repo, "rev-parse", "HEAD")
    git(repo, "revert", "--no-edit", "HEAD")
    steps = play_push(repo, shared, before)
    assert steps["pipeline.sh"].returncode is None  # skipped: only the overlays changed
    assert steps["angler check-pins"].returncode == 0, steps["angler check-pins"].output
    assert steps["angler champion"].returncode == 0, steps["angler champion"].output
    assert pinned(repo) == first and champion(shared) == first.version
    assert directory_digest(store / str(first.version)) == first.digest


def test_a_pin_with_no_promote_verdict_is_refused_and_the_alias_stays(repo, shared):
    """The attack: a registry version pinned in model.env by hand (as `reconcile --write`
    once did) and merged. Nothing approved it, so the push moves nothing."""
    before = git(repo, "rev-parse", "HEAD")
    alias = champion(shared)
    for env in ("staging", "production"):
        (repo / "k8s" / "overlays" / env / MODEL_ENV).write_text(
            f"ANGLER_MODEL_VERSION=99\nANGLER_MODEL_DIGEST=sha256:{'e' * 64}\n"
        )
    git(repo, "commit", "-qam", "Merge pull request #9: serve the registry's version 99")
    steps = play_push(repo, shared, before)
    assert steps["pipeline.sh"].returncode is None  # overlays only: no pipeline, no verdict
    refused = steps["angler check-pins"]
    assert refused.returncode == 1 and "no promote verdict" in refused.output
    assert steps["angler champion"].returncode is None  # never reached
    assert champion(shared) == alias
