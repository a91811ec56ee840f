"""A task killed in the middle of its stage and retried leaves what a clean run leaves: the
retry reruns the stage (DVC recorded nothing for the killed one), and nothing half-written
survives into dvc.lock. And the Spark task launcher runs under a real spark-submit."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from angler.orchestration import stage_script

from helpers.git_repo import copy_repo
from helpers.paths import SMALL_DEMO

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

BIN = Path(sys.executable).parent


def run_task(repo: Path, stage: str, kill_when: Path | None = None) -> int:
    """The orchestrators' task command; with `kill_when`, SIGKILL its whole process group
    once that path appears (the stage is then mid-write)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    task = subprocess.Popen(
        ["bash", "-c", stage_script(stage)],
        cwd=repo,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while kill_when is not None and task.poll() is None:
        if kill_when.exists():
            os.killpg(task.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    returncode = task.wait(timeout=600)
    gone_by = time.monotonic() + 60
    while time.monotonic() < gone_by:  # the whole group, or DVC sees its lock still held
        try:
            os.killpg(task.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    return returncode


def ingested(repo: Path) -> pd.DataFrame:
    frame = pd.read_parquet(repo / "data" / "ingested")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_killed_then_retried_stage_equals_a_clean_run(tmp_path):
    killed = copy_repo(tmp_path / "killed", **SMALL_DEMO)
    clean = copy_repo(tmp_path / "clean", **SMALL_DEMO)
    assert run_task(killed, "ingest", kill_when=killed / "data" / "ingested") == -signal.SIGKILL
    assert run_task(killed, "ingest") == 0
    assert run_task(clean, "ingest") == 0
    status = subprocess.run(
        [str(BIN / "dvc"), "status", "ingest"], cwd=killed, capture_output=True, text=True
    )
    assert "up to date" in status.stdout
    pd.testing.assert_frame_equal(ingested(killed), ingested(clean))
    reports = [
        json.loads((repo / "reports" / "ingest.json").read_text()) for repo in (killed, clean)
    ]
    assert reports[0] == reports[1]


def test_a_stage_runs_under_spark_submit(tmp_path):
    """What SparkSubmitOperator runs: spark-submit of the launcher, which joins
    spark-submit's JVM for its settings and runs the stage's task script. The stage's own
    SparkSession gets spark-submit's master and --conf: its event log, which only those
    settings turn on, records them."""
    repo = copy_repo(tmp_path / "angler", **SMALL_DEMO)
    events = tmp_path / "events"
    events.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "SPARK_MASTER": ""}
    launcher = Path(__file__).resolve().parents[2] / "pipeline" / "airflow" / "spark_stage.py"
    done = subprocess.run(
        [
            str(BIN / "spark-submit"),
            "--master",
            "local[2]",
            "--conf",
            "spark.angler.probe=1",
            "--conf",
            "spark.eventLog.enabled=true",
            "--conf",
            f"spark.eventLog.dir={events.as_uri()}",
            "--conf",
            "spark.eventLog.compress=false",
            str(launcher),
            "ingest",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    status = subprocess.run(
        [str(BIN / "dvc"), "status", "ingest"], cwd=repo, capture_output=True, text=True
    )
    assert "up to date" in status.stdout
    (log,) = events.iterdir()  # one application: the stage's, not the launcher's
    lines = [
        line for part in sorted(log.rglob("events_*")) for line in part.read_text().splitlines()
    ]
    environment = next(
        json.loads(line) for line in lines if '"SparkListenerEnvironmentUpdate"' in line
    )["Spark Properties"]
    settings = dict(environment) if isinstance(environment, list) else environment
    assert settings["spark.app.name"] == "angler-ingest"
    assert (settings["spark.master"], settings["spark.angler.probe"]) == ("local[2]", "1")
