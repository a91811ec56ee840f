"""One SparkSession factory for every stage.

`local[*]` unless configured: `spark-submit --master ...`, `SPARK_MASTER`, or a
`spark-defaults.conf` in `SPARK_CONF_DIR` point the same code at a cluster.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
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
    have random names, and their number and row order follow the cluster's parallelism.

    Spark writes its parts in parallel and Arrow sorts them into the one file: a global
    `orderBy` would compute `frame` twice (once to sample its range bounds), then sort and
    write it in a single task."""
    staging = _staging(out)
    frame.write.mode("overwrite").parquet(str(staging))
    parts = [pq.read_table(file) for file in sorted(staging.glob("part-*.parquet"))]
    table = pa.concat_tables(parts).sort_by([(column, "ascending") for column in order])
    _publish([table.combine_chunks()], out, staging)


def write_partitions(frame: DataFrame, out: Path, partition_by: str) -> list[Path]:
    """Write `frame` as Parquet, a file per value of the integer column `partition_by` (which
    the files do not hold), named `part-NNNNN.parquet` in the order of the values."""
    staging = _staging(out)
    frame.write.mode("overwrite").partitionBy(partition_by).parquet(str(staging))
    folders = sorted(staging.glob(f"{partition_by}=*"), key=lambda p: int(p.name.split("=")[1]))
    files = [file for folder in folders for file in sorted(folder.glob("part-*.parquet"))]
    return _publish((pq.read_table(file) for file in files), out, staging)


def _staging(out: Path) -> Path:
    staging = out.with_name(f".{out.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    return staging


def _publish(tables: Iterable[pa.Table], out: Path, staging: Path) -> list[Path]:
    """Replace `out` with `tables` as `part-NNNNN.parquet`, then remove Spark's `staging`.
    Rewritten by Arrow: parquet-mr lists each column's encodings in a hash-set order that
    changes from one JVM to the next, so Spark's own footers differ run to run."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    written = []
    for index, table in enumerate(tables):
        written.append(out / f"part-{index:05d}.parquet")
        pq.write_table(table, written[-1], compression="zstd", coerce_timestamps="us")
    shutil.rmtree(staging, ignore_errors=True)  # a partitioned write of no rows makes none
    return written
