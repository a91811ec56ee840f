"""Daily drift monitoring on Airflow 3: the latest served traffic against the training data,
and retraining when it has drifted.

  collect_traffic -> monitor -> drift_detected -> retrain

`collect_traffic` copies the data interval's traffic files (e.g. TF Serving request logs
exported to Parquet) into the checkout's traffic/ folder; `monitor` is the dvc.yaml stage,
run like every stage task; `drift_detected` reads reports/drift.json and skips the rest when
no limit of params.yaml's `monitor:` section is exceeded; `retrain` starts `angler_retrain`,
which ends in a pull request saying why it ran. Configuration, read when the DAG is parsed:

  ANGLER_REPO              the checkout tasks run in (default: this repository)
  ANGLER_MONITOR_SCHEDULE  cron expression or preset (default: @daily; "none": manual runs)
  ANGLER_TRAFFIC_SOURCE    fsspec glob of one interval's traffic files, with {ds} for its
                           date, e.g. s3://logs/angler/{ds}/*.parquet; unset: use what is
                           already in traffic/
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
TRAFFIC_SOURCE = os.environ.get("ANGLER_TRAFFIC_SOURCE")
SCHEDULE = os.environ.get("ANGLER_MONITOR_SCHEDULE", "@daily")
# The run's day: a run triggered with "logical_date": null has no `ds`, only run_after.
DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

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

    @task(task_id="collect_traffic")
    def collect_traffic(dag_run=None) -> list[str]:
        from angler.data.served import collect_traffic, traffic_files

        if TRAFFIC_SOURCE:
            day = f"{dag_run.logical_date or dag_run.run_after:%Y-%m-%d}"
            return collect_traffic(TRAFFIC_SOURCE.format(ds=day), REPO / "traffic")
        return [path.name for path in traffic_files(REPO / "traffic")]

    monitor = BashOperator(
        task_id="monitor",
        bash_command=stage_script("monitor"),
        cwd=str(REPO),
        execution_timeout=timedelta(hours=1),
    )

    @task.short_circuit(task_id="drift_detected")
    def drift_detected() -> bool:
        report = json.loads((REPO / "reports" / "drift.json").read_text(encoding="utf-8"))
        for line in report.get("exceeded", []):
            print(f"over the limit: {line}")
        return report["drift"]

    retrain = TriggerDagRunOperator(
        task_id="retrain",
        trigger_dag_id="angler_retrain",
        conf={"reason": f"angler_monitor found drift in the traffic of {DAY}"},
    )

    collect_traffic() >> monitor >> drift_detected() >> retrain
