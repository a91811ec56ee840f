"""Label: join the observed URLs with the detection feeds that vouch for them.

Each ingested row is one feed's sighting of a URL (`label_hint` 1 for a phishing feed,
0 for a benign or allow list). Sightings of one `url_key` merge into one labelled URL.

Conflict rule (one, documented in the README): a URL that any phishing feed lists is
phishing. Phishing feeds are verified reports of a URL; allow lists vouch for a site as a
whole, and legitimate sites do get compromised. Conflicts are counted in the report.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from angler.data.schema import LABELLED_COLUMNS

log = logging.getLogger(__name__)


def label_urls(sightings: DataFrame) -> DataFrame:
    """One row per url_key with its label, the feed that decided it and all feeds that saw it."""
    per_url = Window.partitionBy("url_key")
    # The deciding sighting: from a feed that agrees with the label, earliest first.
    deciding = per_url.orderBy(
        F.col("label_hint").desc(), F.col("seen_at").asc_nulls_last(), "source", "url"
    )
    return (
        sightings.withColumn("label", F.max("label_hint").over(per_url))
        .withColumn("sources", F.array_sort(F.collect_set("source").over(per_url)))
        .withColumn("first_seen", F.min("seen_at").over(per_url))
        .withColumn("n_seen", F.sum("n_seen").over(per_url))
        .withColumn("conflict", F.min("label_hint").over(per_url) != F.col("label"))
        .withColumn("_rank", F.row_number().over(deciding))
        .where("_rank = 1")
        .select(*LABELLED_COLUMNS, "conflict")
    )


def label_report(rows_in: int, labelled: DataFrame) -> dict:
    """Counts for reports/label.json: rows in = URLs out + sightings merged."""
    by_label = {r["label"]: r["count"] for r in labelled.groupBy("label").count().collect()}
    by_source = labelled.groupBy("source", "label").count().orderBy("source", "label").collect()
    rows_out = sum(by_label.values())
    return {
        "rows_in": rows_in,
        "rows_out": rows_out,
        "merged": rows_in - rows_out,
        "conflicts": labelled.where("conflict").count(),
        "conflict_rule": "phishing wins: a URL listed by any phishing feed is labelled 1",
        "phishing": by_label.get(1, 0),
        "benign": by_label.get(0, 0),
        "by_source": {f"{r['source']}:{r['label']}": r["count"] for r in by_source},
    }
