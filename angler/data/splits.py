"""Split: assign whole registered domains to train / validation / test, so that no domain
is in two splits, plus a temporal test slice of the domains first seen in the newest months.

A domain's split comes from a seeded hash of its name: stable when other domains come or go.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from angler.params import SplitParams

SPLITS = ("train", "validation", "test", "temporal")
HASH_BUCKETS = 1_000_000


def temporal_cutoff(labelled: DataFrame, months: int):
    """Start of the newest `months` calendar months of dated sightings, or None."""
    if months == 0:
        return None
    newest = labelled.agg(F.max("first_seen")).first()[0]
    if newest is None:
        return None
    start = F.add_months(F.trunc(F.lit(newest), "month"), -(months - 1))
    return labelled.sparkSession.range(1).select(start.cast("timestamp")).first()[0]


def assign_splits(labelled: DataFrame, params: SplitParams, seed: int, cutoff) -> DataFrame:
    """`labelled` with a `split` column; every URL of a domain lands in the same split."""
    domains = labelled.groupBy("registered_domain").agg(F.min("first_seen").alias("_first"))
    bucket = F.pmod(F.xxhash64(F.lit(seed), "registered_domain"), F.lit(HASH_BUCKETS))
    share = bucket / F.lit(HASH_BUCKETS)
    split = (
        F.when(share < params.test_fraction, "test")
        .when(share < params.test_fraction + params.validation_fraction, "validation")
        .otherwise("train")
    )
    if cutoff is not None:
        split = F.when(F.col("_first") >= F.lit(cutoff), "temporal").otherwise(split)
    domains = domains.select("registered_domain", split.alias("split"))
    return labelled.join(domains, "registered_domain").select(*labelled.columns, "split")


def split_report(rows_in: int, split: DataFrame, cutoff) -> dict:
    counts = split.groupBy("split", "label").agg(
        F.count("*").alias("urls"), F.countDistinct("registered_domain").alias("domains")
    )
    table = {name: {"urls": 0, "phishing": 0, "benign": 0, "domains": 0} for name in SPLITS}
    for row in counts.collect():
        entry = table[row["split"]]
        entry["urls"] += row["urls"]
        entry["phishing" if row["label"] == 1 else "benign"] += row["urls"]
    for row in split.groupBy("split").agg(F.countDistinct("registered_domain")).collect():
        table[row[0]]["domains"] = row[1]
    return {
        "rows_in": rows_in,
        "rows_out": sum(entry["urls"] for entry in table.values()),
        "temporal_cutoff": cutoff.isoformat() if cutoff else None,
        "splits": table,
    }
