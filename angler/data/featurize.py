"""Featurize: the lexical feature table (Spark) and the Parquet shards TensorFlow reads.

Shards hold what the model needs (`url`, `label`, `source`) per split. The train split is
ordered by a seeded hash, so tf.data can stream it without a global shuffle and two runs
give the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from angler.data.features import lexical_features
from angler.data.schema import (
    FEATURE_COLUMNS,
    ID_COLUMNS,
    SHARD_COLUMNS,
    SPLITS,
    feature_spark_type,
)
from angler.data.spark import write_partitions

INPUT_COLUMNS = ("subdomain", "host", "suffix", "path", "query")


def feature_table(split: DataFrame, suspicious_tokens: tuple[str, ...]) -> DataFrame:
    """ID_COLUMNS plus FEATURE_COLUMNS for every URL of `split`."""
    schema = ", ".join(
        [f"{c} {split.schema[c].dataType.simpleString()}" for c in ID_COLUMNS]
        + [f"{name} {feature_spark_type(name)}" for name in FEATURE_COLUMNS]
    )
    inputs = ["url_key", *INPUT_COLUMNS]

    def compute(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            rows = [
                lexical_features(url, suspicious_tokens)
                for url in batch[inputs].itertuples(index=False)
            ]
            features = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS), index=batch.index)
            yield pd.concat([batch[list(ID_COLUMNS)], features], axis=1)

    return split.select(*ID_COLUMNS, *INPUT_COLUMNS).mapInPandas(compute, schema)


def write_shards(split: DataFrame, out: Path, shards: int, seed: int) -> dict[str, int]:
    """`out/<split>/part-0000N.parquet` per split, rows in the order of a seeded hash of
    url_key across the files; returns the URL count per split. Shard N holds the N-th of
    `shards` equal ranges of the 64-bit hash, so no sampling decides the boundaries and the
    files are the same on any cluster."""
    order = F.xxhash64(F.lit(seed), "url_key")
    fraction = F.col("_order").cast("double") / F.lit(2.0**64) + F.lit(0.5)  # in [0, 1]
    shard = F.least(F.floor(fraction * shards).cast("int"), F.lit(shards - 1))
    counts = {}
    for name in SPLITS:
        rows = split.where(F.col("split") == name).withColumn("_order", order)
        rows = rows.withColumn("_shard", shard).repartition(shards, "_shard")
        ordered = rows.sortWithinPartitions("_shard", "_order").select(*SHARD_COLUMNS, "_shard")
        files = write_partitions(ordered, out / name, partition_by="_shard")
        counts[name] = sum(pq.read_metadata(file).num_rows for file in files)
    return counts
