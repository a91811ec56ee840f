"""`dag.test()` runs the whole retraining DAG on this machine: real tasks (Spark local,
TensorFlow on CPU) on demo data in a copy of the repository, ending with a pushed branch
for the promotion pull request (a bare repository stands in for the Git host)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.git_repo import copy_repo, git
from helpers.paths import REPO_ROOT, SMALL_DEMO

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DAGS = REPO_ROOT / "pipeline" / "airflow" / "dags"
BIN = Path(sys.executable).parent


DAG_TEST = """
import json, sys, pendulum
from airflow.dag_processing.dagbag import DagBag
from airflow.models import DagRun
dag = DagBag(dag_folder=%r).dags[sys.argv[1]]
run = dag.test(logical_date=pendulum.datetime(2026, 11, 1, tz="UTC"))
states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
started = [r.conf for r in DagRun.find(dag_id="angler_retrain") if r.conf]  # by a trigger
end = f"{run.data_interval_end:%%Y-%%m-%%d}"
print(json.dumps({"states": states, "end": end, "started": started}))
"""


@pytest.fixture
def repo(tmp_path) -> Path:
    repo = copy_repo(tmp_path / "angler", **SMALL_DEMO)
    git(tmp_path, "init", "-q", "--bare", "origin.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "fetch", "-q", "origin")
    return repo


def airflow_env(repo: Path) -> dict[str, str]:
    """Airflow reads its settings once per process: the DAG runs in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW_"))}
    return env | {
        "AIRFLOW_HOME": str(repo.parent / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "ANGLER_REPO": str(repo),
        "ANGLER_SPARK_LOG_LEVEL": "ERROR",
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }


def run_dag(dag_id: str, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", DAG_TEST % str(DAGS), dag_id],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dags_retrain_then_monitor_drift_and_start_retraining(repo):
    env = airflow_env(repo)
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    result = run_dag("angler_retrain", env)
    assert set(result["states"].values()) == {"success"}, result["states"]
    assert len(result["states"]) == 11  # sensor, nine stages, pull request
    status = subprocess.run([str(BIN / "dvc"), "status"], cwd=repo, capture_output=True, text=True)
    assert "up to date" in status.stdout  # dvc.lock describes exactly what the tasks left
    branch = f"retrain/{result['end']}"
    pushed = git(repo, "show", "--name-only", "--format=%s", f"origin/{branch}").splitlines()
    assert pushed[0] == f"Retrain: pipeline state of {branch}"
    assert "dvc.lock" in pushed
    body = (repo / "comment" / "comment.md").read_text()  # the pull request's body
    assert body.startswith("<!-- angler-report -->") and "**Verdict: " in body

    # Traffic on TLDs the training data never had: the monitor DAG must start retraining.
    urls = [f"http://account-{i}.zip/verify" for i in range(600)]
    traffic = "url,score\n" + "".join(f"{url},0.5\n" for url in urls)
    (repo / "traffic" / "today.csv").write_text(traffic)
    result = run_dag("angler_monitor", env)
    assert result["states"] == dict.fromkeys(
        ["collect_traffic", "monitor", "drift_detected", "retrain"], "success"
    )
    drift = json.loads((repo / "reports" / "drift.json").read_text())
    assert drift["drift"] is True and drift["tld"]["unseen_share"] == 1.0
    (started,) = result["started"]
    assert started["reason"] == "angler_monitor found drift in the traffic of 2026-11-01"
