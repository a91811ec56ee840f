"""dvc.yaml's code dependencies are derived from the imports: a stage depends on every
angler module its command imports, directly or not, so a change to one reruns it; and on
uv.lock, so a change of library version reruns it too."""

from __future__ import annotations

import copy

import pytest
import yaml

from helpers.imports import PACKAGE, import_closure, import_edges, module_file
from helpers.paths import REPO_ROOT


def required_code(stage: str, edges: set[tuple[str, str]]) -> set[str]:
    """The repository paths of the modules `angler <stage>` runs (package __init__ files,
    which hold docstrings only, are left out)."""
    paths = set()
    for module in import_closure(f"angler.stages.{stage}", edges):
        path = module_file(module)
        if path is not None and path.name != "__init__.py":
            paths.add(path.relative_to(REPO_ROOT).as_posix())
    return paths


def missing_code_deps(pipeline: dict, edges: set[tuple[str, str]]) -> dict[str, list[str]]:
    missing = {}
    for stage, definition in pipeline["stages"].items():
        declared = {dep for dep in definition.get("deps", []) if isinstance(dep, str)}
        gap = sorted(required_code(stage, edges) - declared)
        if gap:
            missing[stage] = gap
    return missing


def stale_code_deps(pipeline: dict, edges: set[tuple[str, str]]) -> dict[str, list[str]]:
    """Declared angler/ files the stage no longer imports (they rerun it for nothing)."""
    stale = {}
    for stage, definition in pipeline["stages"].items():
        declared = {dep for dep in definition.get("deps", []) if dep.startswith("angler/")}
        extra = sorted(declared - required_code(stage, edges))
        if extra:
            stale[stage] = extra
    return stale


def stages_without_the_lock(pipeline: dict) -> list[str]:
    return [
        stage
        for stage, definition in pipeline["stages"].items()
        if "uv.lock" not in definition.get("deps", [])
    ]


@pytest.fixture(scope="module")
def pipeline() -> dict:
    return yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text(encoding="utf-8"))


def test_every_stage_depends_on_all_the_code_it_runs(pipeline):
    assert missing_code_deps(pipeline, import_edges()) == {}


def test_no_stage_depends_on_code_it_does_not_run(pipeline):
    assert stale_code_deps(pipeline, import_edges()) == {}


def test_a_stage_importing_an_undeclared_module_is_found(pipeline):
    edges = import_edges() | {("angler.model.training", "angler.monitor.drift")}
    assert missing_code_deps(pipeline, edges)["train"] == ["angler/monitor/drift.py"]
    assert (PACKAGE / "monitor" / "drift.py").exists()


def test_every_stage_depends_on_the_locked_library_versions(pipeline):
    assert stages_without_the_lock(pipeline) == []


def test_a_stage_without_the_lock_is_found(pipeline):
    changed = copy.deepcopy(pipeline)
    changed["stages"]["train"]["deps"].remove("uv.lock")
    assert stages_without_the_lock(changed) == ["train"]
