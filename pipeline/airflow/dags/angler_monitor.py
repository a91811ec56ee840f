"""Daily drift monitoring on Airflow 3: the latest served traffic against the training data,
and retraining when it has drifted.

  pin_commit -> collect_traffic -> monitor -> drift_detected -> retrain

Like a retraining run, each run works in a worktree of its own at one commit (the same
revision angler_retrain trains), sharing the repository's DVC cache, so the checkout it was
pointed at is never moved or edited. `collect_traffic` copies the data interval's traffic
files (e.g. TF Serving request logs exported to Parquet) into the worktree's traffic/;
`monitor` is the dvc.yaml stage, run like every stage task; `drift_detected` prints
reports/drift.json to its log (the run's record), removes the worktree, and skips the rest
when no limit of params.yaml's `monitor:` section is exceeded; `retrain` starts
`angler_retrain`, which ends in a pull request saying why it ran. Configuration, read when
the DAG is parsed:

  ANGLER_REPO              the repository runs check out from (default: this repository)
  ANGLER_RUNS_DIR          where each run's worktree goes (default: the repository's parent)
  ANGLER_REVISION          the revision to monitor (default: main of the push remote, else main)
  ANGLER_MONITOR_SCHEDULE  cron expression or preset (default: @daily; "none": manual runs
                           only); unpausing the DAG starts the latest interval's run at once
  ANGLER_TRAFFIC_SOURCE    fsspec glob of one interval's traffic files, with {ds} for its
                           date, e.g. s3://logs/angler/{ds}/*.parquet; unset: a copy of the
                           files in the repository's traffic/
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, task

from angler.orchestration import stage_script

REPO = Path(os.environ.get("ANGLER_REPO", Path(__file__).resolve().parents[3]))
RUNS_DIR = Path(os.environ.get("ANGLER_RUNS_DIR", REPO.parent))
REVISION = os.environ.get("ANGLER_REVISION")
TRAFFIC_SOURCE = os.environ.get("ANGLER_TRAFFIC_SOURCE")
SCHEDULE = os.environ.get("ANGLER_MONITOR_SCHEDULE", "@daily")
# The run's day: a run triggered with "logical_date": null has no `ds`, only run_after.
DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"
CHECKOUT = "{{ ti.xcom_pull(task_ids='pin_commit', key='checkout') }}"
COMMIT = {"ANGLER_COMMIT": "{{ ti.xcom_pull(task_ids='pin_commit', key='commit') }}"}

with DAG(
    dag_id="angler_monitor",
    schedule=None if SCHEDULE == "none" else SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["angler"],
    doc_md=__doc__,
) as dag:

    @task(task_id="pin_commit", multiple_outputs=True)
    def pin_commit(run_id=None) -> dict[str, str]:
        from airflow.sdk import Variable

        from angler.review import retrain_pr

        checkout = retrain_pr.run_checkout(REPO, RUNS_DIR, f"monitor.{run_id}")
        remote = Variable.get("angler_push_remote", default=None)
        commit = retrain_pr.pin_commit(REPO, checkout, REVISION, remote)
        print(f"this run monitors {commit}'s model in {checkout}")
        return {"commit": commit, "checkout": str(checkout)}

    @task(task_id="collect_traffic")
    def collect_traffic(dag_run=None, ti=None) -> list[str]:
        from angler.data.served import collect_traffic, traffic_files

        traffic = Path(ti.xcom_pull(task_ids="pin_commit", key="checkout")) / "traffic"
        if TRAFFIC_SOURCE:
            day = f"{dag_run.logical_date or dag_run.run_after:%Y-%m-%d}"
            return collect_traffic(TRAFFIC_SOURCE.format(ds=day), traffic)
        return [path.name for path in traffic_files(traffic)]

    monitor = BashOperator(
        task_id="monitor",
        bash_command=stage_script("monitor"),
        cwd=CHECKOUT,
        env=COMMIT,
        append_env=True,
        execution_timeout=timedelta(hours=1),
    )

    @task.short_circuit(task_id="drift_detected")
    def drift_detected(ti=None) -> bool:
        from angler.review import retrain_pr

        checkout = Path(ti.xcom_pull(task_ids="pin_commit", key="checkout"))
        report = json.loads((checkout / "reports" / "drift.json").read_text(encoding="utf-8"))
        for line in report.get("exceeded", []):
            print(f"over the limit: {line}")
        print(f"reports/drift.json: {json.dumps(report)}")
        retrain_pr.remove_run_checkout(REPO, checkout)
        return report["drift"]

    retrain = TriggerDagRunOperator(
        task_id="retrain",
        trigger_dag_id="angler_retrain",
        conf={"reason": f"angler_monitor found drift in the traffic of {DAY}"},
    )

    pin_commit() >> collect_traffic() >> monitor >> drift_detected() >> retrain
