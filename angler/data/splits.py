"""Split: assign whole registered domains to train / validation / test, so that no domain
is in two splits, plus a temporal test slice of the domains first seen in the newest months
of their own source.

A domain's split comes from a seeded hash of its name: stable when other domains come or go.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from angler.data.schema import SPLITS
from angler.params import SplitParams

HASH_BUCKETS = 1_000_000


def temporal_cutoffs(labelled: DataFrame, months: int) -> dict[str, datetime]:
    """Each dated source's cutoff: the start of its own newest `months` calendar months.
    Sources end at different dates (a benign crawl in 2023, a feed in 2025), so one cutoff
    for all would leave the older sources out of the slice and it would hold one class."""
    if months == 0:
        return {}
    newest = (
        labelled.where(F.col("first_seen").isNotNull())
        .groupBy("source")
        .agg(F.max("first_seen").alias("newest"))
    )
    start = F.add_months(F.trunc("newest", "month"), -(months - 1)).cast("timestamp")
    return {
        row["source"]: row["start"]
        for row in newest.select("source", start.alias("start")).collect()
    }


def assign_splits(
    labelled: DataFrame, params: SplitParams, seed: int, cutoffs: dict[str, datetime]
) -> DataFrame:
    """`labelled` with a `split` column; every URL of a domain lands in the same split. A
    domain is temporal when each of its URLs is dated and in its source's newest months: it
    first appeared there, so training cannot have seen it (an undated sighting, such as a
    benign list's, may be of any age)."""
    cutoff = _source_cutoff(cutoffs)
    recent = F.col("first_seen") >= cutoff
    domains = labelled.groupBy("registered_domain").agg(
        F.bool_and(F.coalesce(recent, F.lit(False))).alias("_recent")
    )
    bucket = F.pmod(F.xxhash64(F.lit(seed), "registered_domain"), F.lit(HASH_BUCKETS))
    share = bucket / F.lit(HASH_BUCKETS)
    split = (
        F.when(F.col("_recent"), "temporal")
        .when(share < params.test_fraction, "test")
        .when(share < params.test_fraction + params.validation_fraction, "validation")
        .otherwise("train")
    )
    domains = domains.select("registered_domain", split.alias("split"))
    return labelled.join(domains, "registered_domain").select(*labelled.columns, "split")


def _source_cutoff(cutoffs: dict[str, datetime]) -> Column:
    """The cutoff of each row's source as a column; null for undated sources."""
    if not cutoffs:
        return F.lit(None).cast("timestamp")
    pairs = [F.lit(x) for source, start in sorted(cutoffs.items()) for x in (source, start)]
    return F.create_map(*pairs)[F.col("source")]


def split_report(rows_in: int, split: DataFrame, cutoffs: dict[str, datetime]) -> dict:
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
        "temporal_cutoffs": {
            source: start.isoformat() for source, start in sorted(cutoffs.items())
        },
        "splits": table,
    }
