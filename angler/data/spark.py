"""One SparkSession factory for every stage.

`local[*]` unless configured: `spark-submit --master ...`, `SPARK_MASTER`, or a
`spark-defaults.conf` in `SPARK_CONF_DIR` point the same code at a cluster.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq
from pyspark import SparkConf
from pyspark.sql import DataFrame, SparkSession

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
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # what Arrow writes too
    # A stage's JVM lives for seconds to minutes: the client JIT alone and the serial GC
    # start it twice as fast, and the full corpus ran faster too (BENCHMARKS.md, data stages).
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    " -Dlog4j.configurationFile=" + str(Path(__file__).with_name("log4j2.properties")),
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


def write_table(frame: DataFrame, out: Path, order: list[str]) -> None:
    """`frame` as one Parquet file, `out/part-00000.parquet`, its rows sorted by `order` (a
    unique key). The same rows give the same bytes on any machine: Spark's own part files
    have random names, and their number and row order follow the cluster's parallelism."""
    write_files(frame.orderBy(*order).coalesce(1), out)


def write_files(frame: DataFrame, out: Path, partition_by: str | None = None) -> list[Path]:
    """Write `frame` as Parquet and give its files fixed names: `part-NNNNN.parquet` in the
    order of the partition values (`partition_by`, one file each) or of Spark's tasks."""
    staging = out.with_name(f".{out.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    writer = frame.write.mode("overwrite")
    (writer.partitionBy(partition_by) if partition_by else writer).parquet(str(staging))
    if partition_by:
        folders = sorted(staging.glob(f"{partition_by}=*"), key=lambda p: int(p.name.split("=")[1]))
        files = [file for folder in folders for file in sorted(folder.glob("part-*.parquet"))]
    else:
        files = sorted(staging.glob("part-*.parquet"))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    written = [out / f"part-{index:05d}.parquet" for index in range(len(files))]
    for file, target in zip(files, written, strict=True):
        # Rewritten by Arrow: parquet-mr lists each column's encodings in a hash-set order
        # that changes from one JVM to the next, so Spark's own footers differ run to run.
        pq.write_table(pq.read_table(file), target, compression="zstd", coerce_timestamps="us")
    shutil.rmtree(staging, ignore_errors=True)  # a partitioned write of no rows makes none
    return written
