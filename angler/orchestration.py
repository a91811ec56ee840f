"""What every orchestrator runs: the dvc.yaml stage graph, and one command per stage.

Airflow and Argo Workflows run each stage as `dvc repro <stage>` in a checkout of the
repository, and the DVC remote's run cache is the hand-off between systems: a task restores
its upstream stages from the cache (pushed by earlier tasks, wherever they ran), runs its
own stage and pushes its outputs and run-cache entry. A task retried after a crash redoes
only what is not in the cache, and no task reads a half-written output: DVC pushes a
stage's outputs only after its command succeeded.

A stage name never becomes shell code: `stage_script` accepts only the names in dvc.yaml and
quotes them, and `stage_argument_script` is a fixed script that takes the stage as its first
argument ("$1") and accepts only those names too, for runners that pass the stage at run
time (the Argo template's `{{inputs.parameters.stage}}`).

One run trains one commit: the runner resolves its revision once (`pin_commit_script` for
Argo) and gives every task that commit as ANGLER_COMMIT; the script refuses a checkout at
any other commit. Tasks that share one checkout (Airflow's LocalExecutor) take turns: DVC
locks the whole repository while it works, so the script holds CHECKOUT_LOCK (flock) around
its DVC commands rather than failing on DVC's lock. Tasks in separate clones never wait.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from angler.errors import AnglerError

SPARK_STAGES = ("ingest", "label", "split", "featurize")
GPU_STAGES = ("train",)
# Inside .dvc/tmp, which DVC keeps out of git; relative to the checkout, the script's cwd.
CHECKOUT_LOCK = ".dvc/tmp/angler-task.lock"
# This repository's pipeline; outside a checkout (an installed package), the dvc.yaml of
# the checkout the task runs in.
DVC_YAML = Path(__file__).resolve().parents[1] / "dvc.yaml"


class StageError(AnglerError):
    """A stage name that is not a stage of dvc.yaml."""


def stage_graph(dvc_yaml: Path) -> dict[str, list[str]]:
    """Each stage's upstream stages, in dvc.yaml order: the stages whose outputs it reads."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    produced_by = {
        _path(out): name
        for name, stage in stages.items()
        for kind in ("outs", "metrics", "plots")
        for out in stage.get(kind, [])
    }
    graph = {}
    for name, stage in stages.items():
        upstream = {
            producer
            for dep in stage.get("deps", [])
            for path, producer in produced_by.items()
            if producer != name and (dep == path or dep.startswith(path.rstrip("/") + "/"))
        }
        graph[name] = [other for other in stages if other in upstream]
    return graph


def stage_names(dvc_yaml: Path | None = None) -> list[str]:
    """The stages of dvc.yaml, in order (default: this repository's, else ./dvc.yaml)."""
    path = dvc_yaml or (DVC_YAML if DVC_YAML.exists() else Path("dvc.yaml"))
    if not path.exists():
        raise StageError(f"no dvc.yaml at {path} to check stage names against")
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["stages"])


def stage_script(stage: str, dvc_yaml: Path | None = None) -> str:
    """The shell script a task runs in a checkout of the repository, for one stage of
    dvc.yaml: any other name is refused, and the name is quoted all the same."""
    names = stage_names(dvc_yaml)
    if stage not in names:
        raise StageError(f"unknown stage {stage!r}; dvc.yaml has {', '.join(names)}")
    return _script(shlex.quote(stage))


def stage_argument_script(dvc_yaml: Path | None = None) -> str:
    """The same script with the stage as its first argument: `bash -c <script> angler <stage>`.
    The script is fixed text; it refuses a stage that is not in dvc.yaml before running DVC."""
    names = "|".join(shlex.quote(name) for name in stage_names(dvc_yaml))
    check = (
        'case "${1:-}" in',
        f"  {names}) ;;",
        '  *) echo "angler: unknown stage ${1:-(none)}" >&2; exit 2 ;;',
        "esac",
    )
    return _script('"$1"', check)


def pin_commit_script() -> str:
    """The fixed script that resolves a revision to the commit a run trains:
    `bash -c <script> angler-pin <repository> <revision> <output file>`. A treeless bare
    clone is enough to resolve branches, tags and commits."""
    return "\n".join(
        [
            "set -euo pipefail",
            'clone="$(mktemp -d)"',
            'git clone --quiet --bare --filter=tree:0 -- "$1" "$clone"',
            'git -C "$clone" rev-parse --verify --quiet --end-of-options "$2^{commit}" > "$3"',
        ]
    )


def _script(stage: str, check: tuple[str, ...] = ()) -> str:
    """`stage`: a quoted name or "$1", never a name spliced in unquoted."""
    return "\n".join(
        [
            "set -euo pipefail",
            *check,
            'if [ "${ANGLER_COMMIT:-}" ] && [ "$(git rev-parse HEAD)" != "$ANGLER_COMMIT" ]; then',
            '  echo "angler: the checkout is not at the pinned commit $ANGLER_COMMIT" >&2',
            "  exit 3",
            "fi",
            "mkdir -p .dvc/tmp",
            f"exec 9>>{CHECKOUT_LOCK}",
            "flock 9",
            'if [ -n "${DVC_REMOTE_URL:-}" ]; then',
            '  dvc remote add --local --default --force orchestrator "$DVC_REMOTE_URL"',
            "fi",
            "dvc pull --run-cache --allow-missing --force",  # a retry replaces half-written files
            f"dvc repro {stage}",
            "dvc push --run-cache",
        ]
    )


def _path(out: str | dict) -> str:
    return out if isinstance(out, str) else next(iter(out))
