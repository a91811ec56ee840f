"""The import graph of the angler package, read from its source (lazy imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "angler"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_file(module: str, package: Path = PACKAGE) -> Path | None:
    """angler/x/y.py or angler/x/y/__init__.py for `angler.x.y`, None if neither exists."""
    base = package.parent.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def import_edges(package: Path = PACKAGE) -> set[tuple[str, str]]:
    """(importer, imported module) for every import of an angler module. Relative imports
    are banned by ruff, so only absolute ones are read; `from angler.x import y` counts as
    importing the module `angler.x.y` when there is one."""
    edges = set()
    for path in package.rglob("*.py"):
        importer = module_name(path, package)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    names.append(full if module_file(full, package) else node.module)
            edges.update((importer, name) for name in names if name.split(".")[0] == package.name)
    return edges


def import_closure(module: str, edges: set[tuple[str, str]]) -> set[str]:
    """`module` and every angler module it imports, directly or not."""
    graph: dict[str, set[str]] = {}
    for importer, imported in edges:
        graph.setdefault(importer, set()).add(imported)
    seen, stack = set(), [module]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(graph.get(current, ()))
    return seen
