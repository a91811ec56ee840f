"""Faults around MLflow end cleanly: a run whose process was killed is marked KILLED by the
next run, and a tracking server that is down fails the stage in about a minute with one
line (it retried for 8 min 20 s and printed a 190-line traceback)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow

from helpers.engines import free_port

ANGLER = str(Path(sys.executable).with_name("angler"))
START_AND_WAIT = (
    "import time; from angler.model import tracking; run = tracking.start_run(); "
    "print(run.info.run_id, flush=True); time.sleep(120)"
)
START = "from angler.model import tracking; tracking.start_run(); import mlflow; mlflow.end_run()"


def run_in_another_process(tmp_path: Path) -> tuple[subprocess.Popen, str, dict]:
    """A process that started a run and waits: (the process, its run id, the environment)."""
    env = os.environ | {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    process = subprocess.Popen(
        [sys.executable, "-c", START_AND_WAIT],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip(), env


def test_a_run_killed_with_sigkill_is_marked_killed_by_the_next(tmp_path):
    victim, run_id, env = run_in_another_process(tmp_path)
    client = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"])
    assert client.get_run(run_id).info.status == "RUNNING"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert client.get_run(run_id).info.status == "RUNNING"  # nobody said otherwise yet
    subprocess.run([sys.executable, "-c", START], cwd=tmp_path, env=env, check=True)
    assert client.get_run(run_id).info.status == "KILLED"


def test_a_live_run_is_left_running(tmp_path):
    alive, run_id, env = run_in_another_process(tmp_path)
    try:
        subprocess.run([sys.executable, "-c", START], cwd=tmp_path, env=env, check=True)
        client = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"])
        assert client.get_run(run_id).info.status == "RUNNING"
    finally:
        alive.kill()
        alive.wait()


def test_train_with_the_tracking_server_down_is_one_line_within_a_minute(demo_run, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    command = [
        ANGLER,
        "train",
        "--shards",
        str(demo_run / "data" / "shards"),
        "--gate",
        str(demo_run / "reports" / "validate.json"),
        "--model",
        str(tmp_path / "angler.keras"),
        "--report",
        str(tmp_path / "train.json"),
        "--params",
        str(demo_run / "params.yaml"),
    ]
    start = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - start
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("angler train: error")]
    assert len(errors) == 1 and errors[0].startswith("angler train: error: MLflow tracking:")
    assert "127.0.0.1" in errors[0] and "Connection refused" in errors[0]
    assert "Traceback" not in result.stderr
    assert elapsed < 90, elapsed  # MLflow's own defaults took 8 min 20 s
    assert not (tmp_path / "angler.keras").exists() and not (tmp_path / "train.json").exists()
