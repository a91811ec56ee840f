"""Shared fixtures: the repository root, the committed tiny corpus, the real corpus when the
machine has it, and one Spark session for the whole run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CORPUS = REPO_ROOT / "tests" / "fixtures" / "corpus"
SHARED_DATA = Path(os.environ.get("ANGLER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def spark():
    from angler.spark import spark_session

    os.environ.setdefault("ANGLER_SPARK_LOG_LEVEL", "ERROR")
    session = spark_session("tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"no real corpus at {SHARED_DATA}")
    return SHARED_DATA


def write_params(path: Path, **overrides) -> Path:
    """The repository's params.yaml with `section.key` overrides, written to `path`."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        params[section][key] = value
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path
