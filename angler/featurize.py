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

from angler.features import FEATURE_COLUMNS, NUMERIC_FEATURES, lexical_features
from angler.splits import SPLITS

ID_COLUMNS = ["url", "url_key", "registered_domain", "source", "label", "split", "first_seen"]
SHARD_COLUMNS = ["url", "label", "source"]
INPUT_COLUMNS = ["subdomain", "host", "suffix", "path", "query"]


def feature_table(split: DataFrame, suspicious_tokens: tuple[str, ...]) -> DataFrame:
    """ID_COLUMNS plus FEATURE_COLUMNS for every URL of `split`."""
    kinds = {name: "double" if name == "entropy" else "int" for name in NUMERIC_FEATURES}
    schema = ", ".join(
        [f"{c} {split.schema[c].dataType.simpleString()}" for c in ID_COLUMNS]
        + [f"{name} {kinds.get(name, 'string')}" for name in FEATURE_COLUMNS]
    )

    def compute(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            rows = [
                lexical_features(key, host, sub, suffix, path, query, suspicious_tokens)
                for key, host, sub, suffix, path, query in zip(
                    batch["url_key"],
                    batch["host"],
                    batch["subdomain"],
                    batch["suffix"],
                    batch["path"],
                    batch["query"],
                    strict=True,
                )
            ]
            features = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS), index=batch.index)
            yield pd.concat([batch[ID_COLUMNS], features], axis=1)

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
