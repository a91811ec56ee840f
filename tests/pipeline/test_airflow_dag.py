"""The Airflow DAG: imports cleanly and lightly, runs the dvc.yaml graph, and puts tasks
where the configuration says (Spark cluster, GPU pod) without a code change."""

import json
import subprocess
import sys

import pytest

from angler.orchestration import GPU_STAGES, SPARK_STAGES, stage_graph, stage_script

from helpers.paths import REPO_ROOT

DAGS = REPO_ROOT / "pipeline" / "airflow" / "dags"
HEAVY = ("tensorflow", "pyspark", "mlflow", "dvc", "keras", "great_expectations")


@pytest.fixture
def airflow_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    for name in (
        "ANGLER_SPARK_CONN_ID",
        "ANGLER_K8S_NAMESPACE",
        "ANGLER_REPO",
        "ANGLER_SCHEDULE",
        "MLFLOW_TRACKING_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def load_dag(dag_id: str = "angler_retrain"):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    return bag.dags[dag_id]


def test_dag_imports_without_errors_or_heavy_imports(airflow_home):
    probe = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS)!r})\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(json.dumps([bag.import_errors, list(bag.dags), heavy]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    errors, dags, heavy = json.loads(result.stdout.strip().splitlines()[-1])
    assert (errors, sorted(dags), heavy) == ({}, ["angler_monitor", "angler_retrain"], [])


PINNED = {
    "ANGLER_COMMIT": "{{ ti.xcom_pull(task_ids='pin_commit', key='commit') }}",
    "ANGLER_BRANCH": "{{ ti.xcom_pull(task_ids='pin_commit', key='branch') }}",
}
# Tasks on this machine run in the run's own worktree and keep MLflow records in the repository.
CHECKOUT = "{{ ti.xcom_pull(task_ids='pin_commit', key='checkout') }}"
LOCAL = PINNED | {"MLFLOW_TRACKING_URI": f"sqlite:///{REPO_ROOT / 'mlflow.db'}"}


def test_dag_runs_the_dvc_graph_between_the_pinned_commit_and_the_pull_request(airflow_home):
    dag = load_dag()
    graph = stage_graph(REPO_ROOT / "dvc.yaml")
    assert len(dag.tasks) == 12  # sensor, pin_commit, nine stages, pull request
    assert dag.get_task("pin_commit").upstream_task_ids == {"labels_matured"}
    for stage, upstream in graph.items():
        task = dag.get_task(stage)
        expected = set(upstream) or {"pin_commit"}
        assert task.upstream_task_ids == expected
        assert task.bash_command == stage_script(stage)
        assert (task.env, task.append_env, task.cwd) == (LOCAL, True, CHECKOUT)
        assert task.retries >= 1 and task.execution_timeout is not None
        assert task.queue == (
            "spark" if stage in SPARK_STAGES else "gpu" if stage in GPU_STAGES else "default"
        )
    assert dag.get_task("labels_matured").deferrable is True
    last_stages = {stage for stage in graph if not any(stage in up for up in graph.values())}
    assert last_stages == {"export", "monitor"}
    assert dag.get_task("open_promotion_pr").upstream_task_ids == last_stages


def test_monitor_dag_runs_the_monitor_stage_and_starts_retraining_on_drift(airflow_home):
    dag = load_dag("angler_monitor")
    chain = ["pin_commit", "collect_traffic", "monitor", "drift_detected", "retrain"]
    for before, after in zip(chain, chain[1:], strict=False):
        assert dag.get_task(after).upstream_task_ids == {before}
    monitor = dag.get_task("monitor")
    assert monitor.bash_command == stage_script("monitor")
    assert "pin_commit" in monitor.cwd and "pin_commit" in monitor.env["ANGLER_COMMIT"]
    assert dag.get_task("retrain").trigger_dag_id == load_dag().dag_id


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: gpu, cluster: {server: "https://gpu-cluster.invalid:6443"}}]
users: [{name: airflow, user: {token: unused}}]
contexts: [{name: gpu, context: {cluster: gpu, user: airflow}}]
current-context: gpu
"""


def test_configured_cluster_runs_train_as_a_gpu_pod(airflow_home, monkeypatch):
    (airflow_home / "kubeconfig").write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(airflow_home / "kubeconfig"))
    monkeypatch.setenv("ANGLER_K8S_NAMESPACE", "angler-training")
    pod = load_dag().get_task("train").build_pod_request_obj()
    (container,) = pod.spec.containers
    assert pod.metadata.namespace == "angler-training"
    assert container.resources.limits["nvidia.com/gpu"] == "1"
    assert pod.spec.node_selector == {"nvidia.com/gpu.present": "true"}
    assert [t.key for t in pod.spec.tolerations] == ["nvidia.com/gpu"]
    assert "dvc repro train" in container.args[0]
    # The pod fetches the pinned commit, not whatever main is when it starts.
    assert 'git fetch --quiet --depth 1 "$ANGLER_GIT_URL" "$ANGLER_COMMIT"' in container.args[0]
    assert "clone" not in container.args[0]
    assert load_dag().get_task("train").env_vars == PINNED


def test_configured_spark_connection_drives_the_spark_stages(airflow_home, monkeypatch):
    monkeypatch.setenv("ANGLER_SPARK_CONN_ID", "spark_cluster")
    monkeypatch.setenv(
        "AIRFLOW_CONN_SPARK_CLUSTER",
        json.dumps(
            {
                "conn_type": "spark",
                "host": "spark://spark-master.data",
                "port": 7077,
                "extra": {"deploy-mode": "client", "queue": "angler"},
            }
        ),
    )
    dag = load_dag()
    for stage in SPARK_STAGES:
        task = dag.get_task(stage)
        assert type(task).__name__ == "SparkSubmitOperator"
        assert task.application.endswith("pipeline/airflow/spark_stage.py")
        assert task.application_args == [stage, CHECKOUT]  # the checkout, not its cwd
        assert task.env_vars == LOCAL
        resolved = task._get_hook()._resolve_connection()
        assert (resolved["master"], resolved["deploy_mode"], resolved["queue"]) == (
            "spark://spark-master.data:7077",
            "client",
            "angler",
        )
    assert type(dag.get_task("validate")).__name__ == "BashOperator"


def test_the_schedule_is_weekly_unless_set_and_none_means_manual_runs_only(
    airflow_home, monkeypatch
):
    assert load_dag().schedule == "@weekly"
    monkeypatch.setenv("ANGLER_SCHEDULE", "none")  # what make airflow sets
    dag = load_dag()
    assert dag.schedule is None and not dag.timetable.can_be_scheduled
