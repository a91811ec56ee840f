"""One SparkSession factory for every stage.

`local[*]` unless configured: `spark-submit --master ...`, `SPARK_MASTER`, or a
`spark-defaults.conf` in `SPARK_CONF_DIR` point the same code at a cluster.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark import SparkConf
from pyspark.sql import SparkSession

LOCAL_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "4g",
    # Plain files only: no _SUCCESS markers or .crc siblings inside DVC-tracked outputs.
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.driver.extraJavaOptions": "-Dlog4j.configurationFile="
    + str(Path(__file__).with_name("log4j2.properties")),
}


def spark_session(stage: str) -> SparkSession:
    """The session for `stage`; settings already given by spark-submit or the env win."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    given = SparkConf()
    builder = SparkSession.builder.appName(f"angler-{stage}")
    if not given.contains("spark.master"):
        master = os.environ.get("SPARK_MASTER", "local[*]")
        if master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.master(master)
    for key, value in LOCAL_DEFAULTS.items():
        if not given.contains(key):
            builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(os.environ.get("ANGLER_SPARK_LOG_LEVEL", "WARN"))
    return session
