"""The retraining and monitoring DAGs on a real Airflow 3: api-server, scheduler,
dag-processor and triggerer on this machine, runs triggered over the REST API with no
logical date, real tasks (Spark on a standalone cluster, TensorFlow on CPU) in a copy of the
repository, each run in a worktree of its own, ending with a branch for the promotion pull
request: pushed where the Airflow variable angler_push_remote says (a bare repository stands
in for the Git host), else kept in the repository. The checkout Airflow was pointed at is
never moved or edited. Once with the LocalExecutor, once with the CeleryExecutor and a
worker per queue."""

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import mlflow
import pytest

from angler.orchestration import GPU_STAGES, SPARK_STAGES, stage_graph

from helpers.airflow_engine import airflow_running, airflow_settings
from helpers.git_repo import checkout_state, copy_checkout, git
from helpers.paths import MAIN_PARAMS, write_params

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.engines]

BIN = Path(sys.executable).parent
RETRAIN = "angler_retrain"
MONITOR = "angler_monitor"


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


def assert_branch_on_the_pinned_commit(api, run_id: str, run: dict, where: Path) -> str:
    """The branch is in `where` (the push remote or the repository itself), one commit on
    top of the pinned one; the run's worktree is gone; the pull request's body, a report
    with a verdict, is in the task log. The pinned commit."""
    pinned = api.xcom(RETRAIN, run_id, "pin_commit", "commit")
    assert not Path(api.xcom(RETRAIN, run_id, "pin_commit", "checkout")).exists()
    branch = f"retrain/{run['run_after'][:10]}"
    kept = git(where, "show", "--name-only", "--format=%s%n%P", branch).splitlines()
    assert kept[:2] == [f"Retrain: pipeline state of {branch}", pinned]
    assert "dvc.lock" in kept
    body = api.task_log(RETRAIN, run_id, "open_promotion_pr")
    assert "<!-- angler-report -->" in body and "**Verdict: " in body
    assert "no DVC remote" not in body  # the checkout has one (.dvc/config)
    return pinned


def merge(repo: Path, branch: str) -> None:
    """What a reviewer's merge of the pull request gives the checkout: the branch's pipeline
    state, its outputs from the DVC cache the run shared, and nothing left to reproduce."""
    git(repo, "merge", "-q", "--ff-only", branch)
    subprocess.run([str(BIN / "dvc"), "checkout", "-q"], cwd=repo, check=True)
    status = subprocess.run([str(BIN / "dvc"), "status"], cwd=repo, capture_output=True, text=True)
    assert "up to date" in status.stdout, status.stdout  # dvc.lock describes what tasks left


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
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # main at origin moved on; the user's did not
    before = checkout_state(repo)
    settings = airflow_settings(tmp_path / "airflow", repo, "LocalExecutor")
    settings["AIRFLOW_VAR_ANGLER_PUSH_REMOTE"] = "origin"
    settings["ANGLER_TRAFFIC_SOURCE"] = str(tmp_path / "logs" / "{ds}" / "*.csv")
    with airflow_running(settings | spark_connection(spark_standalone.master)) as api:
        run_id, run, _ = retrain(api, timeout=900)
        pinned = assert_branch_on_the_pinned_commit(api, run_id, run, tmp_path / "origin.git")
        assert pinned == git(repo, "rev-parse", "origin/main") != before[1]  # origin's main
        assert checkout_state(repo) == before
        git(repo, "fetch", "-q", "origin", f"retrain/{run['run_after'][:10]}")
        merge(repo, "FETCH_HEAD")
        ran = spark_standalone.applications()
        assert {f"angler-{stage}" for stage in SPARK_STAGES} <= set(ran)  # on the cluster
        for stage in SPARK_STAGES:
            report = json.loads((repo / "reports" / f"{stage}.json").read_text())
            assert report == json.loads((reproduced_main / "reports" / f"{stage}.json").read_text())

        # Traffic on TLDs the training data never had: the monitor DAG must start retraining.
        # That run waits (paused): the test needs only that it was started.
        api.pause(RETRAIN)
        # They arrive as the log pipeline's export for the run's day, ANGLER_TRAFFIC_SOURCE's
        # {ds}: today's, or tomorrow's should the trigger land after midnight.
        urls = [f"http://account-{i}.zip/verify" for i in range(600)]
        served = "url,score\n" + "".join(f"{url},0.5\n" for url in urls)
        today = datetime.now(timezone.utc).date()
        for day in (today, today + timedelta(days=1)):
            (tmp_path / "logs" / f"{day}").mkdir(parents=True)
            (tmp_path / "logs" / f"{day}" / "served.csv").write_text(served)
        merged = checkout_state(repo)
        api.wait_for_dag(MONITOR)
        monitor_id = api.trigger(MONITOR)
        monitor = api.wait_for_run(MONITOR, monitor_id, timeout=300)
        states = {t: ti["state"] for t, ti in api.task_instances(MONITOR, monitor_id).items()}
        assert states == dict.fromkeys(
            ["pin_commit", "collect_traffic", "monitor", "drift_detected", "retrain"], "success"
        ), api.failure_logs(MONITOR, monitor_id)
        assert api.xcom(MONITOR, monitor_id, "collect_traffic", "return_value") == ["served.csv"]
        (drift,) = [
            json.loads(event.removeprefix("reports/drift.json: "))
            for event in api.task_events(MONITOR, monitor_id, "drift_detected")
            if event.startswith("reports/drift.json: ")
        ]
        assert drift["drift"] is True and drift["tld"]["unseen_share"] == 1.0
        assert drift["traffic_files"] == ["served.csv"] and drift["rows_out"] == len(urls)
        assert api.xcom(MONITOR, monitor_id, "pin_commit", "commit") == pinned
        assert not Path(api.xcom(MONITOR, monitor_id, "pin_commit", "checkout")).exists()
        assert checkout_state(repo) == merged  # reports/ and dvc.lock untouched
        assert not (repo / "traffic" / "served.csv").exists()
        runs = api.request("GET", f"/api/v2/dags/{RETRAIN}/dagRuns")["dag_runs"]
        (started,) = [r["conf"] for r in runs if r["conf"]]
        day = monitor["run_after"][:10]
        assert started["reason"] == f"{MONITOR} found drift in the traffic of {day}"


def test_celery_workers_take_the_tasks_of_their_queues(reproduced_main, tmp_path):
    """main's checkout with its DVC cache and a model-only change: the data stages come from
    the cache; each task runs on the worker of its queue."""
    repo = copy_checkout(reproduced_main, tmp_path / "angler")
    write_params(repo / "params.yaml", **(MAIN_PARAMS | {"train.epochs": 2}))
    git(repo, "commit", "-qam", "two epochs")
    with_origin(repo)
    (repo / "params.yaml").write_text("an edit the user has not committed\n")
    before = checkout_state(repo)
    settings = airflow_settings(tmp_path / "airflow", repo, "CeleryExecutor")
    with airflow_running(settings, queues=("spark", "gpu", "default")) as api:
        run_id, run, tasks = retrain(api, timeout=600)
        pinned = assert_branch_on_the_pinned_commit(api, run_id, run, repo)  # no push remote
        assert pinned == git(repo, "rev-parse", "main")
    assert checkout_state(repo) == before
    assert git(tmp_path / "origin.git", "branch", "--list", "retrain/*") == ""  # nothing pushed
    for stage in stage_graph(repo / "dvc.yaml"):
        queue = "spark" if stage in SPARK_STAGES else "gpu" if stage in GPU_STAGES else "default"
        assert (tasks[stage]["queue"], tasks[stage]["hostname"]) == (queue, f"{queue}-worker")
    for task in ("labels_matured", "pin_commit", "open_promotion_pr"):
        assert (tasks[task]["queue"], tasks[task]["hostname"]) == ("default", "default-worker")
    # The MLflow runs are named after the branch the run kept, not `detached@<commit>`.
    client = mlflow.MlflowClient(f"sqlite:///{repo / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("angler").experiment_id
    names = [r.info.run_name for r in client.search_runs([experiment])]
    retrained = [name for name in names if name.startswith("retrain/")]
    assert retrained and all(
        name.startswith(f"retrain/{run['run_after'][:10]}@")
        and pinned.startswith(name.split("@")[1])
        for name in retrained
    ), names
