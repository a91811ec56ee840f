"""The package's layers: imports point down only, and importing the CLI loads nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.imports import PACKAGE, import_edges

# Lower number = lower layer. A module may import its own package and any lower layer.
LAYERS = {
    "errors": 0,
    "params": 0,
    "reports": 0,
    "summary": 0,
    "orchestration": 0,
    "quiet": 0,
    "data": 1,
    "model": 2,  # the model reads the data schema (the www rule, the shard columns)
    "review": 3,
    "deploy": 3,
    "monitor": 3,
    "options": 4,
    "stages": 5,
    "commands": 5,
    "cli": 6,
}
BASE = 0
HEAVY = ("tensorflow", "keras", "pyspark", "mlflow", "dvc", "great_expectations", "sklearn")


def unit_of(module: str) -> str:
    """`angler.data.urls` -> `data`, `angler.params` -> `params`."""
    return module.split(".")[1]


def layer_violations(edges: set[tuple[str, str]]) -> list[str]:
    """Imports that point up or sideways between units, or cycles among the base modules."""
    found = []
    base_graph: dict[str, set[str]] = {}
    for importer, imported in sorted(edges):
        if importer == "angler":
            continue
        src, dst = unit_of(importer), unit_of(imported)
        if src == dst:
            continue
        if src not in LAYERS or dst not in LAYERS:
            found.append(f"{importer} -> {imported}: unit not in LAYERS")
        elif LAYERS[src] == LAYERS[dst] == BASE:
            base_graph.setdefault(src, set()).add(dst)
        elif LAYERS[dst] >= LAYERS[src]:
            found.append(f"{importer} -> {imported}: {src} may not import {dst}")
    for start in base_graph:
        stack, seen = list(base_graph[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                found.append(f"import cycle through angler.{start}")
                break
            if node not in seen:
                seen.add(node)
                stack.extend(base_graph.get(node, ()))
    return found


def test_every_unit_has_a_layer():
    units = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    units |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert units == set(LAYERS)


def test_imports_point_down_only():
    edges = import_edges()
    assert ("angler.stages.train", "angler.model.training") in edges  # the scan sees lazy imports
    assert layer_violations(edges) == []


@pytest.mark.parametrize(
    "edge",
    [
        ("angler.data.urls", "angler.review.report"),  # up
        ("angler.data.urls", "angler.model.network"),  # up, within the middle layers
        ("angler.review.report", "angler.deploy.serving"),  # sideways
        ("angler.params", "angler.cli"),  # base importing the top
    ],
)
def test_an_upward_or_sideways_import_is_found(edge):
    assert layer_violations({edge}) != []


def test_a_cycle_among_base_modules_is_found():
    edges = {("angler.summary", "angler.reports"), ("angler.reports", "angler.summary")}
    assert any("cycle" in v for v in layer_violations(edges))


def test_importing_the_cli_loads_nothing_heavy():
    code = (
        f"import sys, angler, angler.cli\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
