"""Featurize: the lexical feature table (Spark) and the Parquet shards TensorFlow reads.

Shards hold what the model needs (`url`, `label`, `source`) per split. The train split is
ordered by a seeded hash, so tf.data can stream it without a global shuffle and two runs
give the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
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
    """`out/<split>/part-*.parquet` per split; returns the URL count per split."""
    order = F.xxhash64(F.lit(seed), "url_key")
    counts = {}
    for name in SPLITS:
        rows = split.where(F.col("split") == name).withColumn("_order", order)
        (
            rows.repartitionByRange(shards, "_order")
            .sortWithinPartitions("_order")
            .select(*SHARD_COLUMNS)
            .write.mode("overwrite")
            .parquet(str(out / name))
        )
        counts[name] = split.sparkSession.read.parquet(str(out / name)).count()
    return counts
