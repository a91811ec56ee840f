"""The data stages on a real Spark standalone cluster give what they give in local mode: the
Spark launcher of Airflow's SparkSubmitOperator, submitted to the master from a directory
that is not the checkout (as the operator does), against main's local reproduction."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from angler.orchestration import SPARK_STAGES

from helpers.git_repo import copy_repo
from helpers.paths import MAIN_PARAMS, REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.engines]

BIN = Path(sys.executable).parent
LAUNCHER = REPO_ROOT / "pipeline" / "airflow" / "spark_stage.py"


def test_data_stages_on_the_cluster_count_the_rows_local_mode_counts(
    spark_standalone, reproduced_main, tmp_path
):
    repo = copy_repo(tmp_path / "angler", **MAIN_PARAMS)
    elsewhere = tmp_path / "spark-submit"
    elsewhere.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env |= {"ANGLER_SPARK_LOG_LEVEL": "ERROR", "SPARK_MASTER": ""}
    master = spark_standalone.master
    submit = [str(BIN / "spark-submit"), "--master", master, str(LAUNCHER), "featurize"]
    done = subprocess.run(
        [*submit, str(repo)], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    ran = spark_standalone.applications()
    assert {f"angler-{stage}" for stage in SPARK_STAGES} <= set(ran)  # on the cluster
    for stage in SPARK_STAGES:
        report = json.loads((repo / "reports" / f"{stage}.json").read_text())
        local = json.loads((reproduced_main / "reports" / f"{stage}.json").read_text())
        assert report == local, stage
