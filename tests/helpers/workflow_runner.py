"""Runs the `run:` steps of a GitHub Actions job on this machine, the way the runner does:
bash with -eo pipefail, the job's and step's `env:` with `${{ }}` expressions filled in from
a context the test gives, GITHUB_PATH applied between steps, GITHUB_OUTPUT read into
`steps.<id>.outputs`, and `if:` conditions of two forms: `${{ !cancelled() }}` (runs after a
failure too) and `steps.<id>.outputs.<key> == '<value>'`. `uses:` steps (checkout, set-up, cache,
artifacts) are the test's job: the repository, the venv and the files are already here.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
ALWAYS = "${{ !cancelled() }}"
OUTPUT_TEST = re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+) == '([^']*)'")


@dataclass
class StepResult:
    name: str
    returncode: int | None  # None: skipped after an earlier failure
    output: str


def job_steps(workflow: Path, job: str) -> tuple[dict, list[dict]]:
    spec = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"][job]
    return spec.get("env", {}), [step for step in spec["steps"] if "run" in step]


def fill(value: str, context: dict[str, str]) -> str:
    """Expressions from `context`; one the test did not provide is an error."""

    def lookup(match: re.Match) -> str:
        if match.group(1) not in context:
            raise KeyError(f"the test gives no value for ${{{{ {match.group(1)} }}}}")
        return context[match.group(1)]

    return EXPRESSION.sub(lookup, str(value))


def run_job(
    workflow: Path, job: str, repo: Path, context: dict[str, str], skip: tuple[str, ...] = ()
) -> list[StepResult]:
    job_env, steps = job_steps(workflow, job)
    runner = repo.parent / f"{repo.name}-runner"
    runner.mkdir(exist_ok=True)
    github_path = runner / "github_path"
    github_path.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {
        "RUNNER_TEMP": str(runner),
        "GITHUB_PATH": str(github_path),
        "GITHUB_STEP_SUMMARY": str(runner / "step_summary.md"),
    }
    env |= {key: fill(value, context) for key, value in job_env.items()}
    results, failed, outputs = [], False, {}
    for step in steps:
        name = step.get("name", step["run"].splitlines()[0])
        assert not EXPRESSION.search(step["run"]), f"{name}: expression inside run:"
        if name in skip or not should_run(step.get("if"), failed, outputs):
            results.append(StepResult(name, None, ""))
            continue
        added = github_path.read_text().split()
        step_env = env | {key: fill(value, context) for key, value in step.get("env", {}).items()}
        step_env["PATH"] = os.pathsep.join([*reversed(added), env["PATH"]])
        output_file = runner / "github_output"
        output_file.write_text("")
        step_env["GITHUB_OUTPUT"] = str(output_file)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=repo,
            env=step_env,
            capture_output=True,
            text=True,
        )
        results.append(StepResult(name, done.returncode, done.stdout + done.stderr))
        failed = failed or done.returncode != 0
        if "id" in step:
            lines = output_file.read_text().splitlines()
            outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
    return results


def should_run(condition: str | None, failed: bool, outputs: dict) -> bool:
    if condition is None:
        return not failed
    if condition == ALWAYS:
        return True
    test = OUTPUT_TEST.fullmatch(condition.strip())
    assert test, f"the runner cannot evaluate if: {condition}"
    step, key, value = test.groups()
    return not failed and outputs.get(step, {}).get(key) == value
