"""A stage on a real Spark standalone cluster gives what it gives in local mode: the Spark
launcher of Airflow's SparkSubmitOperator, submitted to the master from a directory that is
not the checkout (as the operator does), against main's local reproduction. Ingest only: the
Airflow test runs every data stage on the cluster."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.git_repo import copy_repo
from helpers.paths import MAIN_PARAMS, REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.engines]

BIN = Path(sys.executable).parent
LAUNCHER = REPO_ROOT / "pipeline" / "airflow" / "spark_stage.py"


def test_ingest_on_the_cluster_counts_the_rows_local_mode_counts(
    spark_standalone, reproduced_main, tmp_path
):
    repo = copy_repo(tmp_path / "angler", **MAIN_PARAMS)
    elsewhere = tmp_path / "spark-submit"
    elsewhere.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env |= {"ANGLER_SPARK_LOG_LEVEL": "ERROR", "SPARK_MASTER": ""}
    master = spark_standalone.master
    submit = [str(BIN / "spark-submit"), "--master", master, str(LAUNCHER), "ingest"]
    done = subprocess.run(
        [*submit, str(repo)], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "angler-ingest" in spark_standalone.applications()  # it ran on the cluster
    report = json.loads((repo / "reports" / "ingest.json").read_text())
    assert report == json.loads((reproduced_main / "reports" / "ingest.json").read_text())
