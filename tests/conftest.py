"""Shared fixtures: the real corpus when the machine has it, one Spark session, an MLflow
store, the pipeline run in-process on demo data, and main's pipeline reproduced once with
`dvc repro` for the tests that play its history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.git_repo import copy_repo, reproduce_and_commit
from helpers.paths import MAIN_PARAMS, SHARED_DATA, SMALL_DEMO, write_params


@pytest.fixture(scope="session")
def spark():
    from angler.data.spark import spark_session

    os.environ.setdefault("ANGLER_SPARK_LOG_LEVEL", "ERROR")
    session = spark_session("tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"no real corpus at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    """A throwaway MLflow store for the whole run, so tests never touch ./mlflow.db."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    return uri


@pytest.fixture(scope="session")
def demo_run(spark, mlflow_store, tmp_path_factory) -> Path:
    """The whole pipeline, in-process, on a small demo corpus: data, model, export."""
    from helpers.stage_runner import run_data_stages, run_model_stages

    root = tmp_path_factory.mktemp("demo-run")
    params = write_params(root / "params.yaml", **SMALL_DEMO)
    run_data_stages(root, params)
    return run_model_stages(root, params)


@pytest.fixture(scope="session")
def reproduced_main(tmp_path_factory) -> Path:
    """A copy of the repository whose main commits its own `dvc repro` of the demo data, and
    whose DVC cache holds every output. Tests copy it (`copy_checkout`) or clone it."""
    return reproduce_and_commit(
        copy_repo(tmp_path_factory.mktemp("main") / "angler", **MAIN_PARAMS)
    )
