"""The retraining and monitoring DAGs on a real Airflow 3: api-server, scheduler,
dag-processor and triggerer on this machine, runs triggered over the REST API with no
logical date, real tasks (Spark on a standalone cluster, TensorFlow on CPU) in a copy of the
repository, ending with a pushed branch for the promotion pull request (a bare repository
stands in for the Git host). Once with the LocalExecutor, once with the CeleryExecutor and
a worker per queue."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from angler.orchestration import GPU_STAGES, SPARK_STAGES, stage_graph

from helpers.airflow_engine import airflow_running, airflow_settings
from helpers.git_repo import copy_checkout, git
from helpers.paths import MAIN_PARAMS, write_params

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.engines]

BIN = Path(sys.executable).parent
RETRAIN = "angler_retrain"


def with_origin(repo: Path) -> Path:
    """`origin`: a bare repository holding the checkout's main."""
    git(repo.parent, "init", "-q", "--bare", "origin.git")
    git(repo, "remote", "add", "origin", str(repo.parent / "origin.git"))
    git(repo, "push", "-q", "origin", "main")
    return repo


def spark_connection(master: str) -> dict[str, str]:
    host, port = master.rsplit(":", 1)
    connection = {"conn_type": "spark", "host": host, "port": int(port)}
    connection["extra"] = {"deploy-mode": "client"}
    return {
        "ANGLER_SPARK_CONN_ID": "angler_spark",
        "AIRFLOW_CONN_ANGLER_SPARK": json.dumps(connection),
    }


def retrain(api, timeout: float) -> tuple[str, dict, dict]:
    """Trigger angler_retrain as a person would; its run and task instances once done."""
    api.wait_for_dag(RETRAIN)
    run_id = api.trigger(RETRAIN)
    run = api.wait_for_run(RETRAIN, run_id, timeout)
    tasks = api.task_instances(RETRAIN, run_id)
    states = {task: ti["state"] for task, ti in tasks.items()}
    assert set(states.values()) == {"success"}, f"{states}\n{api.failure_logs(RETRAIN, run_id)}"
    assert len(states) == 12  # sensor, pin_commit, nine stages, pull request
    return run_id, run, tasks


def assert_pushed_from_the_pinned_commit(api, repo: Path, run_id: str, run: dict) -> str:
    """The branch is on origin, one commit on top of the pinned one, and the checkout is
    still on the pinned commit with exactly the state the branch holds."""
    pinned = api.xcom(RETRAIN, run_id, "pin_commit")
    assert pinned == git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "origin/main")
    branch = f"retrain/{run['run_after'][:10]}"
    origin = repo.parent / "origin.git"
    pushed = git(origin, "show", "--name-only", "--format=%s%n%P", branch).splitlines()
    assert pushed[:2] == [f"Retrain: pipeline state of {branch}", pinned]
    assert "dvc.lock" in pushed
    status = subprocess.run([str(BIN / "dvc"), "status"], cwd=repo, capture_output=True, text=True)
    assert "up to date" in status.stdout  # dvc.lock describes exactly what the tasks left
    body = (repo / "comment" / "comment.md").read_text()  # the pull request's body
    assert body.startswith("<!-- angler-report -->") and "**Verdict: " in body
    assert "no DVC remote" not in body  # the checkout has one (.dvc/config)
    return body


def test_local_executor_runs_the_spark_stages_on_the_cluster_then_the_monitor_finds_drift(
    spark_standalone, reproduced_main, tmp_path
):
    """main's checkout with its DVC cache and a change to the Spark session module, which
    every data stage and no other depends on: the data stages run again, through
    spark-submit on the standalone cluster, and give main's outputs again, so the model
    stages are up to date (the Celery test runs them)."""
    repo = copy_checkout(reproduced_main, tmp_path / "angler")
    with (repo / "angler" / "data" / "spark.py").open("a") as module:
        module.write("# changed by a test\n")
    git(repo, "commit", "-qam", "a change to the Spark session module")
    with_origin(repo)
    settings = airflow_settings(tmp_path / "airflow", repo, "LocalExecutor")
    with airflow_running(settings | spark_connection(spark_standalone.master)) as api:
        run_id, run, _ = retrain(api, timeout=900)
        assert_pushed_from_the_pinned_commit(api, repo, run_id, run)
        ran = spark_standalone.applications()
        assert {f"angler-{stage}" for stage in SPARK_STAGES} <= set(ran)  # on the cluster
        for stage in SPARK_STAGES:
            report = json.loads((repo / "reports" / f"{stage}.json").read_text())
            assert report == json.loads((reproduced_main / "reports" / f"{stage}.json").read_text())

        # Traffic on TLDs the training data never had: the monitor DAG must start retraining.
        # That run waits (paused): it would put the checkout back on main meanwhile.
        api.pause(RETRAIN)
        urls = [f"http://account-{i}.zip/verify" for i in range(600)]
        (repo / "traffic" / "today.csv").write_text(
            "url,score\n" + "".join(f"{url},0.5\n" for url in urls)
        )
        api.wait_for_dag("angler_monitor")
        monitor_id = api.trigger("angler_monitor")
        monitor = api.wait_for_run("angler_monitor", monitor_id, timeout=300)
        states = {
            t: ti["state"] for t, ti in api.task_instances("angler_monitor", monitor_id).items()
        }
        assert states == dict.fromkeys(
            ["collect_traffic", "monitor", "drift_detected", "retrain"], "success"
        ), api.failure_logs("angler_monitor", monitor_id)
        drift = json.loads((repo / "reports" / "drift.json").read_text())
        assert drift["drift"] is True and drift["tld"]["unseen_share"] == 1.0
        runs = api.request("GET", f"/api/v2/dags/{RETRAIN}/dagRuns")["dag_runs"]
        (started,) = [r["conf"] for r in runs if r["conf"]]
        day = monitor["run_after"][:10]
        assert started["reason"] == f"angler_monitor found drift in the traffic of {day}"


def test_celery_workers_take_the_tasks_of_their_queues(reproduced_main, tmp_path):
    """main's checkout with its DVC cache and a model-only change: the data stages come from
    the cache; each task runs on the worker of its queue."""
    repo = copy_checkout(reproduced_main, tmp_path / "angler")
    write_params(repo / "params.yaml", **(MAIN_PARAMS | {"train.epochs": 2}))
    git(repo, "commit", "-qam", "two epochs")
    with_origin(repo)
    settings = airflow_settings(tmp_path / "airflow", repo, "CeleryExecutor")
    with airflow_running(settings, queues=("spark", "gpu", "default")) as api:
        run_id, run, tasks = retrain(api, timeout=600)
        assert_pushed_from_the_pinned_commit(api, repo, run_id, run)
    for stage in stage_graph(repo / "dvc.yaml"):
        queue = "spark" if stage in SPARK_STAGES else "gpu" if stage in GPU_STAGES else "default"
        assert (tasks[stage]["queue"], tasks[stage]["hostname"]) == (queue, f"{queue}-worker")
    for task in ("labels_matured", "pin_commit", "open_promotion_pr"):
        assert (tasks[task]["queue"], tasks[task]["hostname"]) == ("default", "default-worker")
