"""What every orchestrator runs: the dvc.yaml stage graph, and one command per stage.

Airflow and Argo Workflows run each stage as `dvc repro <stage>` in a checkout of the
repository, and the DVC remote's run cache is the hand-off between systems: a task restores
its upstream stages from the cache (pushed by earlier tasks, wherever they ran), runs its
own stage and pushes its outputs and run-cache entry. A task retried after a crash redoes
only what is not in the cache, and no task reads a half-written output: DVC pushes a
stage's outputs only after its command succeeded.
"""

from __future__ import annotations

from pathlib import Path

import yaml

SPARK_STAGES = ("ingest", "label", "split", "featurize")
GPU_STAGES = ("train",)


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


def stage_script(stage: str) -> str:
    """The shell script a task runs in a checkout of the repository."""
    return "\n".join(
        [
            "set -euo pipefail",
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
