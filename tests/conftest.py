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


# A demo corpus small enough for tests, with a model that still learns it.
SMALL_DEMO = {
    "data.demo_size": 4000,
    "validate.min_rows": 500,
    "train.epochs": 3,
    "train.batch_size": 128,
    "train.early_stopping_patience": 2,
}


def write_params(path: Path, **overrides) -> Path:
    """The repository's params.yaml with `section.key` overrides, written to `path`."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        params[section][key] = value
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    """A throwaway MLflow store for the whole run, so tests never touch ./mlflow.db."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    return uri


@pytest.fixture(scope="session")
def demo_run(spark, mlflow_store, tmp_path_factory) -> Path:
    """The whole pipeline, in-process, on a small demo corpus: data, model, export."""
    from stage_runner import run_data_stages, run_model_stages

    root = tmp_path_factory.mktemp("demo-run")
    params = write_params(root / "params.yaml", **SMALL_DEMO)
    run_data_stages(root, params)
    return run_model_stages(root, params)
