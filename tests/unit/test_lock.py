"""The environment the tests run in is the locked one: every package that uv.lock resolves
for this platform and Python, with make env's extras, is installed at its locked version."""

from __future__ import annotations

import re
from importlib import metadata

from packaging.markers import Marker
from packaging.version import Version

from helpers.paths import REPO_ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def make_env_extras() -> list[str]:
    line = re.search(r"^EXTRAS := (.*)$", (REPO_ROOT / "Makefile").read_text(), re.M)
    return line.group(1).split()


def locked_versions(lock: dict, root: str, extras: list[str]) -> dict[str, str]:
    """name -> version of every package reached from `root[extras]` whose markers hold here."""
    packages = {(p["name"], p["version"]): p for p in lock["package"]}
    by_name = {}
    for name, version in packages:
        by_name.setdefault(name, []).append(version)

    def applies(dependency: dict) -> bool:
        return "marker" not in dependency or Marker(dependency["marker"]).evaluate()

    found: dict[str, str] = {}
    pending = [(root, by_name[root][0], tuple(extras))]
    seen = set()
    while pending:
        name, version, wanted = pending.pop()
        if (name, version, wanted) in seen:
            continue
        seen.add((name, version, wanted))
        found[name] = version
        package = packages[(name, version)]
        dependencies = list(package.get("dependencies", []))
        for extra in wanted:
            dependencies += package.get("optional-dependencies", {}).get(extra, [])
        for dependency in filter(applies, dependencies):
            target = dependency.get("version") or by_name[dependency["name"]][0]
            pending.append((dependency["name"], target, tuple(dependency.get("extra", []))))
    return found


def test_every_locked_package_is_installed_at_its_locked_version():
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked = locked_versions(lock, "angler", make_env_extras())
    installed = {normalise(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = {
        name: (version, installed.get(normalise(name)))
        for name, version in locked.items()
        if Version(installed.get(normalise(name), "0")) != Version(version)
    }
    assert wrong == {}, "locked version, installed version (make env installs the lock)"
    assert len(locked) > 200  # the whole tree was walked, not just the root
