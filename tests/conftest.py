"""Shared fixtures: the real corpus when the machine has it, one Spark session, an MLflow
store, the pipeline run in-process on demo data, and main's pipeline reproduced once with
`dvc repro` for the tests that play its history."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import pytest

from helpers.built_once import built_once
from helpers.git_repo import copy_repo, reproduce_and_commit
from helpers.paths import MAIN_PARAMS, SHARED_DATA, SMALL_DEMO, write_params

# pytest-xdist's workers run under execnet, whose __main__ has neither __spec__ nor __file__.
# PySpark (which Great Expectations imports) then takes the worker for a doctest run and exits
# it, as Spark Connect's extras are not installed (pyspark/sql/connect/utils.py).
if os.environ.get("PYTEST_XDIST_WORKER") and not hasattr(sys.modules["__main__"], "__file__"):
    sys.modules["__main__"].__file__ = "xdist-worker"

# As the CLI does: py4j logs at INFO when a gateway connection is garbage-collected, and at
# interpreter exit that reaches a handler whose stream (pytest's capture) is already closed.
logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With ANGLER_NO_SKIPS set (.ci/run, where the tools and ../shared/data exist), a skip
    fails: a green run there ran every test, none skipped for a missing tool or data."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("ANGLER_NO_SKIPS"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        reason = str(reason).removeprefix("Skipped: ")
        report.longrepr = f"skipped where every test must run (ANGLER_NO_SKIPS): {reason}"


def pytest_terminal_summary(terminalreporter):
    """On GitHub Actions (no ../shared/data there), the job summary lists every skipped test
    with its reason, so a green run says what it did not run."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    skipped = terminalreporter.stats.get("skipped", [])
    if not summary or not skipped:
        return
    lines = [f"### {len(skipped)} tests skipped", "", "| test | reason |", "|---|---|"]
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        lines.append(f"| `{report.nodeid}` | {str(reason).removeprefix('Skipped: ')} |")
    with open(summary, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


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
def demo_build(tmp_path_factory) -> Path:
    """The whole pipeline, in-process, on a small demo corpus (data, model, export), with
    its own MLflow store (mlflow.db), built once for the whole test run."""
    return built_once(tmp_path_factory, "demo-run", build_demo_run)


def build_demo_run(root: Path) -> None:
    from helpers.stage_runner import run_data_stages, run_model_stages

    os.environ.setdefault("ANGLER_SPARK_LOG_LEVEL", "ERROR")
    params = write_params(root / "params.yaml", **SMALL_DEMO)
    before = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    try:
        run_model_stages(run_data_stages(root, params), params)
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI")
        if before is not None:
            os.environ["MLFLOW_TRACKING_URI"] = before


@pytest.fixture(scope="session")
def mlflow_store(demo_build, tmp_path_factory) -> str:
    """This worker's MLflow store, so tests never touch ./mlflow.db: a copy of the demo
    run's, which holds its run and its registered model."""
    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    shutil.copy(demo_build / "mlflow.db", path)
    os.environ["MLFLOW_TRACKING_URI"] = uri = f"sqlite:///{path}"
    return uri


@pytest.fixture(scope="session")
def demo_run(demo_build, mlflow_store) -> Path:
    """The demo run (read it, do not change it), with MLFLOW_TRACKING_URI on this worker's
    copy of its store."""
    return demo_build


@pytest.fixture(scope="session")
def reproduced_main(tmp_path_factory) -> Path:
    """A copy of the repository whose main commits its own `dvc repro` of the demo data, and
    whose DVC cache holds every output, built once for the whole test run. Tests copy it
    (`copy_checkout`) or clone it."""
    return (
        built_once(
            tmp_path_factory,
            "main",
            lambda folder: reproduce_and_commit(copy_repo(folder / "angler", **MAIN_PARAMS)),
        )
        / "angler"
    )
