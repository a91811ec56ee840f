"""Play the promote workflows (the scripts they call, called here in their order with their
arguments), with a local DVC remote, a SQLite MLflow registry, a model-store folder and a bare
repository as `origin`: a better model merged goes to staging, then promote-production takes
it to production (overlays, store and alias agree), and a `git revert` of that promotion
rolls back and moves the alias back."""

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
from helpers.workflow_runner import (
    EXPRESSION,
    SETUP_STEPS,
    Job,
    Step,
    failed_steps,
    job_env,
    run_steps,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "promote.yml"
PRODUCTION = REPO_ROOT / ".github" / "workflows" / "promote-production.yml"
PRODUCTION_STEPS = [
    *SETUP_STEPS,
    Step('.github/scripts/promote-production.sh "$VERSION" main'),
    Step("angler check-pins"),
    Step("angler champion --env production"),
]
MODEL = "steps.kind.outputs.kind == 'model'"
# The job's `run:` steps, which `play_push` plays in this order after the set-up.
STEPS = [
    *SETUP_STEPS,
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
    run(repo, shared, "angler", "promote", "--env", "staging", "--verdict", str(first))
    version = json.loads((repo / "models" / "angler" / "model.json").read_text())["version"]
    run(repo, shared, "angler", "promote", "--env", "production", "--from-env", "staging",
        "--version", str(version))  # fmt: skip
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


def play_production(repo: Path, shared: dict, version: int) -> dict:
    context = {
        name: ""
        for name in EXPRESSION.findall(PRODUCTION.read_text())
        if name.startswith("secrets.")
    }
    context |= shared | {"inputs.version": str(version)}
    job = Job(repo, job_env(PRODUCTION, "production", context))
    job.call(".github/scripts/promote-production.sh", job.env["VERSION"], "main")
    job.call("angler", "check-pins")
    job.call("angler", "champion", "--env", "production")
    return job.steps


def test_the_workflows_run_the_steps_played_here():
    assert run_steps(WORKFLOW, "promote") == STEPS
    assert run_steps(PRODUCTION, "production") == PRODUCTION_STEPS


def pinned(repo: Path, env: str = "production"):
    return read_promotion(repo / "k8s" / "overlays" / env / MODEL_ENV).stable


def champion(shared: dict) -> int:
    import mlflow

    client = mlflow.MlflowClient(shared["secrets.MLFLOW_TRACKING_URI"])
    return int(client.get_model_version_by_alias("angler", "champion").version)


def test_a_better_model_merged_goes_to_staging_then_production_then_a_revert_rolls_back(
    repo, shared
):
    first = pinned(repo)
    assert champion(shared) == first.version

    before = git(repo, "rev-parse", "HEAD")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["epochs"] = 3  # the merged PR: one more epoch, a better model
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    git(repo, "commit", "-qam", "Merge pull request #8: one more epoch")
    steps = play_push(repo, shared, before)
    failed = failed_steps(steps)
    assert not failed, failed

    report = json.loads((repo / "comment" / "report.json").read_text())
    assert report["verdict"]["decision"] == "promote", report["verdict"]
    promoted = pinned(repo, "staging")
    assert promoted.version != first.version
    assert pinned(repo) == first and champion(shared) == first.version  # production waits
    store = Path(shared["secrets.ANGLER_MODEL_STORE"])
    assert directory_digest(store / str(promoted.version)) == promoted.digest
    log = git(repo, "log", "--format=%s", "-2", "origin/main").splitlines()
    assert log == [
        f"promote angler version {promoted.version} to staging",
        "pipeline outputs of the merge (verdict: promote)",
    ]
    assert git(repo, "show", "--name-only", "--format=", "origin/main").splitlines() == [
        "k8s/overlays/staging/model.env",
    ]
    approved = json.loads((store / "ledger" / "approved" / f"{promoted.version}.json").read_text())
    assert (
        approved["digest"] == promoted.digest
        and approved["reasons"] == report["verdict"]["reasons"]
    )
    assert (store / "ledger" / "staging" / f"{promoted.version}.json").is_file()
    assert not (store / "ledger" / "production" / f"{promoted.version}.json").exists()

    refused = play_production(repo, shared, first.version)  # not what staging serves
    assert refused["promote-production.sh"].returncode == 2
    assert f"not {first.version}" in refused["promote-production.sh"].output
    steps = play_production(repo, shared, promoted.version)
    failed = failed_steps(steps)
    assert not failed, failed
    assert pinned(repo) == promoted and champion(shared) == promoted.version
    assert git(repo, "log", "--format=%s", "-1", "origin/main") == (
        f"promote angler version {promoted.version} to production"
    )
    assert git(repo, "show", "--name-only", "--format=", "origin/main").splitlines() == [
        "k8s/overlays/production/model.env"
    ]
    assert (store / "ledger" / "production" / f"{promoted.version}.json").is_file()

    before = git(repo, "rev-parse", "HEAD")
    git(repo, "revert", "--no-edit", "HEAD")
    steps = play_push(repo, shared, before)
    assert steps["pipeline.sh"].returncode is None  # skipped: only the overlays changed
    assert steps["angler check-pins"].returncode == 0, steps["angler check-pins"].output
    assert steps["angler champion"].returncode == 0, steps["angler champion"].output
    assert pinned(repo) == first and champion(shared) == first.version
    assert pinned(repo, "staging") == promoted  # the rollback is production's alone
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


def test_production_repinned_by_an_overlays_only_merge_moves_nothing(repo, shared):
    """The attack of issue 28: a merge that edits only production's model.env, to a version a
    verdict approved and staging pinned but production never took (here one the promote job
    recorded for staging, which staging then found unhealthy). promote-kind.sh calls it a
    rollback, so no pipeline and no verdict run; the ledger refuses it."""
    from angler.deploy.ledger import record_approval, record_pin
    from angler.deploy.serving import Pin, Promotion, write_promotion

    store = shared["secrets.ANGLER_MODEL_STORE"]
    staged_only = Pin(98, "sha256:" + "d" * 64)
    verdict = {"verdict": {"decision": "promote", "reasons": ["better"]}}
    record_approval(store, staged_only, json.dumps(verdict).encode())
    record_pin(store, "staging", staged_only)
    git(repo, "checkout", "-q", "--force", "main")
    git(repo, "reset", "-q", "--hard", "origin/main")
    before = git(repo, "rev-parse", "HEAD")
    write_promotion(repo / "k8s" / "overlays" / "production" / MODEL_ENV, Promotion(staged_only))
    git(repo, "commit", "-qam", "Merge pull request #11: production takes version 98")
    alias = champion(shared)
    steps = play_push(repo, shared, before)
    assert steps["pipeline.sh"].returncode is None  # overlays only: no pipeline, no verdict
    refused = steps["angler check-pins"]
    assert refused.returncode == 1
    assert "version 98 was never pinned in production by a promote job" in refused.output
    assert steps["angler champion"].returncode is None and champion(shared) == alias
    git(repo, "reset", "-q", "--hard", before)


def test_a_model_planted_in_the_pr_remote_is_never_promoted(repo, shared, tmp_path):
    """The attack: a PR job (which can write the PR-scoped remote only) pushes a trojaned
    `export` output there and commits its hash in dvc.lock without running the stage; the PR
    is merged. Promotion reads the trusted remote only: it never gets the planted object,
    restores or rebuilds `export` from trusted inputs, and publishes nothing planted."""
    origin = repo.parent / "origin.git"
    pr_remote = tmp_path / "pr-remote"
    attacker = tmp_path / "attacker"
    git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(attacker))
    trusted_url = shared["secrets.DVC_REMOTE_URL"]
    run(attacker, shared, "dvc", "remote", "add", "--local", "--default", "ci", trusted_url)
    run(attacker, shared, "dvc", "remote", "add", "--local", "pr", str(pr_remote))
    run(attacker, shared, "dvc", "pull")  # PR credentials may read the trusted remote
    trusted_hash = yaml.safe_load((attacker / "dvc.lock").read_text())["stages"]["export"]
    trusted_hash = trusted_hash["outs"][0]["md5"]
    (attacker / "models" / "angler" / "assets.extra").mkdir(exist_ok=True)
    (attacker / "models" / "angler" / "assets.extra" / "trojan.txt").write_text("planted\n")
    planted = directory_digest(attacker / "models" / "angler")
    run(attacker, shared, "dvc", "commit", "--force", "export")
    run(attacker, shared, "dvc", "push", "--remote", "pr", "export")
    planted_hash = yaml.safe_load((attacker / "dvc.lock").read_text())["stages"]["export"]
    planted_hash = planted_hash["outs"][0]["md5"]
    assert planted_hash != trusted_hash
    assert (pr_remote / "files" / "md5" / planted_hash[:2] / planted_hash[2:]).exists()
    before = git(attacker, "rev-parse", "HEAD")
    git(attacker, "commit", "-qam", "Merge pull request #10: refresh dvc.lock")
    git(attacker, "push", "-q", "origin", "HEAD:main")

    promoter = tmp_path / "promoter"  # the promote job's fresh checkout, with no DVC cache
    git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(promoter))
    (promoter / ".venv").symlink_to(REPO_ROOT / ".venv")  # the job's set-up step: make env
    steps = play_push(promoter, shared, before)
    failed = failed_steps(steps)
    assert steps["pipeline.sh"].returncode == 0, failed
    assert directory_digest(promoter / "models" / "angler") != planted
    rebuilt = yaml.safe_load((promoter / "dvc.lock").read_text())["stages"]["export"]
    assert rebuilt["outs"][0]["md5"] != planted_hash
    trusted_remote = Path(trusted_url) / "files" / "md5" / planted_hash[:2] / planted_hash[2:]
    assert not trusted_remote.exists()  # the promotion pushed nothing planted either
    store = Path(shared["secrets.ANGLER_MODEL_STORE"])
    published = [directory_digest(path) for path in store.iterdir() if path.name.isdigit()]
    assert published and planted not in published
    for env in ("staging", "production"):
        assert pinned(promoter, env).digest != planted
