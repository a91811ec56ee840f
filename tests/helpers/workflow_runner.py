"""Which commands a GitHub Actions job runs, and in what order, read from its workflow file;
and `Job`, which calls those commands here the way the job's steps do. A test plays a job by
calling its scripts directly, in order, and asserts that `run_steps` lists what it plays.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


@dataclass(frozen=True)
class Step:
    run: str  # the command, as the workflow has it
    condition: str | None = None  # the step's `if:`
    env: dict = field(default_factory=dict)  # the step's own `env:`, expressions unfilled


# How a job with the pipeline sets up: the venv (a played job uses this test run's own).
SETUP_STEPS = [Step("make env"), Step('echo "$PWD/.venv/bin" >> "$GITHUB_PATH"')]


def run_steps(workflow: Path, job: str) -> list[Step]:
    """The job's `run:` steps, in order."""
    steps = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"][job]["steps"]
    return [Step(s["run"].strip(), s.get("if"), s.get("env", {})) for s in steps if "run" in s]


def job_env(workflow: Path, job: str, context: dict[str, str]) -> dict[str, str]:
    """The job's `env:`, its `${{ }}` filled from `context` (one not there is an error)."""

    def lookup(match: re.Match) -> str:
        if match.group(1) not in context:
            raise KeyError(f"the test gives no value for ${{{{ {match.group(1)} }}}}")
        return context[match.group(1)]

    spec = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"][job]
    return {key: EXPRESSION.sub(lookup, str(value)) for key, value in spec.get("env", {}).items()}


@dataclass
class StepResult:
    returncode: int | None  # None: skipped after an earlier failure
    output: str = ""


def failed_steps(steps: dict[str, StepResult]) -> dict[str, str]:
    """The end of each failed step's output, by step name: an assertion message."""
    return {name: step.output[-3000:] for name, step in steps.items() if step.returncode}


class Job:
    """Calls commands in `repo` with the job's env and the venv on PATH (the workflow's "Put
    the environment on PATH" step), none of GitHub's own variables set. After a failure the
    next commands are skipped, but those called with `always=True` (`if: ${{ !cancelled() }}`).
    Results are kept by command name: `pipeline.sh`, `angler`."""

    def __init__(self, repo: Path, env: dict[str, str]):
        self.repo = repo
        self.temp = repo.parent / f"{repo.name}-runner"  # what the runner calls RUNNER_TEMP
        self.temp.mkdir(exist_ok=True)
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_"))
        }
        self.env = (
            inherited | env | {"PATH": f"{repo / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        )
        self.steps: dict[str, StepResult] = {}

    def call(self, *command: str, always: bool = False, when: bool = True) -> StepResult:
        """`when`: the step's own `if:`, as the test evaluates it."""
        failed = any(step.returncode for step in self.steps.values())
        result = StepResult(None)
        if when and (always or not failed):
            done = subprocess.run(
                command, cwd=self.repo, env=self.env, capture_output=True, text=True
            )
            result = StepResult(done.returncode, done.stdout + done.stderr)
        name = Path(command[0]).name
        self.steps[f"angler {command[1]}" if name == "angler" else name] = result
        return result
