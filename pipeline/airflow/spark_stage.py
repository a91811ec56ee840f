"""Run one dvc.yaml stage under spark-submit (Airflow's SparkSubmitOperator):
`spark_stage.py <stage> [<checkout>]`, the checkout defaulting to ANGLER_REPO, else the
current directory. spark-submit runs this from a directory of its own, not the checkout.

spark-submit gives this driver the master and settings of the Airflow connection; the stage
runs as `dvc repro <stage>` in a child process whose SparkSession must use them too, so they
are written to a spark-defaults.conf that the child's Spark reads (SPARK_CONF_DIR).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pyspark import SparkConf, SparkContext

from angler.orchestration import stage_script


def main(stage: str, checkout: str) -> int:
    SparkContext._ensure_initialized()  # joins spark-submit's JVM, so SparkConf sees its settings
    settings = SparkConf().getAll()
    with tempfile.TemporaryDirectory() as conf_dir:
        lines = [f"{key} {value}" for key, value in settings if not key.startswith("spark.app.")]
        (Path(conf_dir) / "spark-defaults.conf").write_text("\n".join(lines) + "\n")
        # Not spark-submit's JVM (PYSPARK_GATEWAY_*): that one resolves relative paths against
        # spark-submit's directory. The stage starts its own, in the checkout.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY_")}
        env["SPARK_CONF_DIR"] = conf_dir
        # angler/data/spark.py takes the master from SPARK_MASTER (else it would run local[*]).
        env["SPARK_MASTER"] = dict(settings).get("spark.master", env.get("SPARK_MASTER", ""))
        script = stage_script(stage, Path(checkout) / "dvc.yaml")
        return subprocess.run(["bash", "-c", script], cwd=checkout, env=env).returncode


if __name__ == "__main__":
    stage, *checkout = sys.argv[1:]
    sys.exit(main(stage, checkout[0] if checkout else os.environ.get("ANGLER_REPO", ".")))
