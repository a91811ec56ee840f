"""Scheduled retraining on Airflow 3: the dvc.yaml stages as tasks, after the labels have
matured and the commit to train is pinned, then a pull request with the retrained pipeline
state. angler_monitor also starts it when served traffic has drifted, and the pull request
says so. Airflow never deploys: the pull request gets the same report and review as a
researcher's, and its merge promotes.

Every stage task runs the command of angler/orchestration.py (`dvc repro <stage>` in a
checkout, the DVC remote's run cache as the hand-off), so any worker on any network can run
it. `pin_commit` checks out the commit this run trains in a worktree of its own beside the
repository (sharing its DVC cache) and every stage task runs there with it as ANGLER_COMMIT
(a pod checks it out; the stage script refuses any other), so one run never mixes commits,
never builds on the branch of the last one, and never moves or edits the checkout it was
pointed at. `open_promotion_pr` pushes only to the remote the Airflow variable
`angler_push_remote` names (also the remote whose main is trained by default); without it
the branch stays in the local repository and the body goes to the task log. Where tasks run
is configuration, read from the environment when the DAG is parsed:

  ANGLER_REPO            the repository runs check out from (default: this repository)
  ANGLER_RUNS_DIR        where each run's worktree goes (default: the repository's parent)
  ANGLER_REVISION        the revision to train (default: main of the push remote, else main)
  ANGLER_SCHEDULE        cron expression or preset (default: @weekly; "none": manual runs
                         only); unpausing the DAG starts the latest interval's run at once
  ANGLER_LABEL_MATURITY  hours after the data interval to wait for late labels (default 48)
  ANGLER_SPARK_CONN_ID   Spark stages go through SparkSubmitOperator on that connection
  ANGLER_K8S_NAMESPACE   train runs as a KubernetesPodOperator pod on a GPU node there
  ANGLER_IMAGE           the stage image for that pod

MLflow records go to MLFLOW_TRACKING_URI, else to the repository's own mlflow.db (a run's
worktree is removed when its pull request is open).

Tasks go to the Celery queues `spark`, `gpu` and `default`; with nothing configured
everything runs locally. Secrets come from Airflow connections or a secrets backend.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.sdk import DAG, task

from angler.orchestration import GPU_STAGES, SPARK_STAGES, stage_graph, stage_script

REPO = Path(os.environ.get("ANGLER_REPO", Path(__file__).resolve().parents[3]))
RUNS_DIR = Path(os.environ.get("ANGLER_RUNS_DIR", REPO.parent))
REVISION = os.environ.get("ANGLER_REVISION")
SPARK_CONN_ID = os.environ.get("ANGLER_SPARK_CONN_ID")
K8S_NAMESPACE = os.environ.get("ANGLER_K8S_NAMESPACE")
IMAGE = os.environ.get("ANGLER_IMAGE", "ghcr.io/angler-ml/angler:0.1.0-gpu")
TASK_DEFAULTS = {
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(hours=4),
}
CHECKOUT = "{{ ti.xcom_pull(task_ids='pin_commit', key='checkout') }}"
# What pin_commit fixed for the stages; their MLflow runs are named <branch>@<commit>.
PINNED = {
    "ANGLER_COMMIT": "{{ ti.xcom_pull(task_ids='pin_commit', key='commit') }}",
    "ANGLER_BRANCH": "{{ ti.xcom_pull(task_ids='pin_commit', key='branch') }}",
}
# Tasks on this machine; a pod takes MLflow's address from its Secret.
LOCAL_ENV = PINNED | {
    "MLFLOW_TRACKING_URI": os.environ.get("MLFLOW_TRACKING_URI")
    or f"sqlite:///{REPO / 'mlflow.db'}"
}
SCHEDULE = os.environ.get("ANGLER_SCHEDULE", "@weekly")
# A pod has no checkout: it fetches exactly the pinned commit.
POD_CHECKOUT = (
    'git init --quiet . && git fetch --quiet --depth 1 "$ANGLER_GIT_URL" "$ANGLER_COMMIT" && '
    "git checkout --quiet FETCH_HEAD && "
)


def stage_task(stage: str):
    """The operator for one stage, by where this installation runs it."""
    queue = "spark" if stage in SPARK_STAGES else "gpu" if stage in GPU_STAGES else "default"
    if stage in SPARK_STAGES and SPARK_CONN_ID:
        from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

        return SparkSubmitOperator(
            task_id=stage,
            conn_id=SPARK_CONN_ID,
            application=str(REPO / "pipeline" / "airflow" / "spark_stage.py"),
            application_args=[stage, CHECKOUT],
            env_vars=LOCAL_ENV,
            queue=queue,
        )
    if stage in GPU_STAGES and K8S_NAMESPACE:
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
        from kubernetes.client import models as k8s

        return KubernetesPodOperator(
            task_id=stage,
            name=f"angler-{stage}",
            namespace=K8S_NAMESPACE,
            image=IMAGE,
            cmds=["bash", "-c"],
            arguments=[POD_CHECKOUT + stage_script(stage)],
            env_vars=PINNED,
            env_from=[
                k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name="angler-pipeline"))
            ],
            container_resources=k8s.V1ResourceRequirements(
                requests={"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                limits={"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "1"},
            ),
            node_selector={"nvidia.com/gpu.present": "true"},
            tolerations=[
                k8s.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")
            ],
            queue=queue,
        )
    return BashOperator(
        task_id=stage,
        bash_command=stage_script(stage),
        cwd=CHECKOUT,
        env=LOCAL_ENV,
        append_env=True,
        queue=queue,
    )


with DAG(
    dag_id="angler_retrain",
    schedule=None if SCHEDULE == "none" else SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=TASK_DEFAULTS,
    tags=["angler"],
    doc_md=__doc__,
) as dag:
    labels_matured = TimeDeltaSensor(
        task_id="labels_matured",
        delta=timedelta(hours=int(os.environ.get("ANGLER_LABEL_MATURITY", "48"))),
        deferrable=True,
    )

    @task(task_id="pin_commit", multiple_outputs=True)
    def pin_commit(run_id=None, data_interval_end=None, dag_run=None) -> dict[str, str]:
        from airflow.sdk import Variable

        from angler.review import retrain_pr

        checkout = retrain_pr.run_checkout(REPO, RUNS_DIR, run_id)
        remote = Variable.get("angler_push_remote", default=None)
        commit = retrain_pr.pin_commit(REPO, checkout, REVISION, remote)
        # A run triggered with "logical_date": null has no data interval.
        branch = f"retrain/{data_interval_end or dag_run.run_after:%Y-%m-%d}"
        print(f"this run trains {commit} in {checkout} for the branch {branch}")
        return {"commit": commit, "checkout": str(checkout), "branch": branch}

    pinned = pin_commit()
    labels_matured >> pinned
    stages = {}
    for name, upstream in stage_graph(REPO / "dvc.yaml").items():
        stages[name] = stage_task(name)
        for before in upstream:
            stages[before] >> stages[name]
        if not upstream:
            pinned >> stages[name]

    @task(task_id="open_promotion_pr")
    def open_promotion_pr(dag_run=None, ti=None) -> str:
        """Keep the retrained state on a branch, pushed to `angler_push_remote` if set, and
        open its pull request (connection `angler_github`: token as password, extra
        {"repository": "owner/name"}); otherwise the rendered body goes to the task log.
        The run's worktree is removed once the branch is kept."""
        from airflow.sdk import BaseHook, Variable

        from angler.review import retrain_pr

        branch = ti.xcom_pull(task_ids="pin_commit", key="branch")
        commit = ti.xcom_pull(task_ids="pin_commit", key="commit")
        checkout = Path(ti.xcom_pull(task_ids="pin_commit", key="checkout"))
        remote = Variable.get("angler_push_remote", default=None)
        where = retrain_pr.keep_retrain_branch(checkout, branch, commit, remote)
        if where is None:
            retrain_pr.remove_run_checkout(REPO, checkout)
            return f"the retrained pipeline state equals {commit}'s: no pull request"
        body = retrain_pr.pull_request_body(checkout, commit, f"{REVISION or 'main'}@{commit[:7]}")
        retrain_pr.remove_run_checkout(REPO, checkout)
        if reason := (dag_run.conf or {}).get("reason"):
            body = f"Retraining started because {reason}.\n\n{body}"
        if not remote:
            print(body)
            return f"kept {where}; no angler_push_remote variable, so nothing was pushed"
        try:
            github = BaseHook.get_connection("angler_github")
        except Exception:  # no such connection: a local or test installation
            print(body)
            return f"pushed {where}; no angler_github connection, so the body is in this log"
        repository = github.extra_dejson["repository"]
        return retrain_pr.open_pull_request(repository, github.password, branch, body)

    last_stages = [stages[name] for name in stages if not stages[name].downstream_task_ids]
    last_stages >> open_promotion_pr()
