"""Ingest: read every feed of a corpus with Spark, normalise and parse the URLs, quarantine
what cannot be parsed (with the reason), and dedupe each feed by `url_key`.

No content stops the stage. Text that is not valid UTF-8 is quarantined ("invalid UTF-8"),
never repaired: Spark's CSV reader turns an invalid byte into U+FFFD, so a URL holding U+FFFD
is quarantined with the same reason. A CSV field Spark could not unquote is quarantined as
"malformed CSV quoting". Invisible and control characters: angler.data.urls.parse_url.

Row accounting: rows read = URLs out + quarantined + duplicates, reported per stage run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from angler.data.feeds import CSV_FORMATS, FeedFile
from angler.data.schema import INGESTED_COLUMNS, URL_COLUMNS, URL_FIELDS
from angler.data.spark import write_table
from angler.data.urls import UrlError, parse_url, unparseable_reason

PARSED_SCHEMA = (
    "file string, source string, label_hint int, seen_at timestamp, raw_url string, "
    "reason string, " + ", ".join(f"{name} {kind}" for name, kind in URL_FIELDS)
)
# Dates as the feeds write them; JPCERT's are Japan time, converted to UTC.
DATE_FORMATS = {
    "jpcert": "yyyy/MM/dd HH:mm:ss",
    "phishtank": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "citizenlab": "yyyy-MM-dd",
}
log = logging.getLogger(__name__)
LABEL_WORDS = {"1": 1, "phishing": 1, "phish": 1, "malicious": 1, "0": 0, "benign": 0}


def read_feeds(spark: SparkSession, feeds: list[FeedFile], corpus: Path) -> DataFrame:
    """All rows of all feeds as one DataFrame (one read per format)."""
    groups: dict[tuple[str, str, int | None], list[str]] = {}
    for feed in feeds:
        groups.setdefault((feed.format, feed.source, feed.label), []).append(str(feed.path))
    frames = [
        _read_group(spark, fmt, source, label, paths)
        for (fmt, source, label), paths in groups.items()
    ]
    rows = frames[0]
    for frame in frames[1:]:
        rows = rows.unionByName(frame)
    return rows


def _read_group(
    spark: SparkSession, fmt: str, source: str, label: int | None, paths: list[str]
) -> DataFrame:
    if fmt == "url_list":
        frame = spark.read.text(paths).withColumnRenamed("value", "url")
        return _uniform(frame, source, F.lit(label), F.lit(None).cast("timestamp"), None)
    header = CSV_FORMATS[fmt][0]
    schema = ", ".join(f"`{c}` string" for c in header) + ", _corrupt string"
    frame = spark.read.csv(
        paths,
        schema=schema,
        header=True,
        mode="PERMISSIVE",
        columnNameOfCorruptRecord="_corrupt",
        encoding="UTF-8",
    )
    problem = (
        F.when(F.col("_corrupt").isNotNull(), F.lit("malformed CSV row"))
        .when(F.startswith("url", F.lit('"')), F.lit("malformed CSV quoting"))
        .when(F.lower(F.trim("url")) == "url", F.lit("repeated header row"))
    )
    label_col: Column = F.lit(label)
    if label is None:
        word = F.lower(F.trim("label"))
        mapping = F.create_map(*[F.lit(x) for pair in LABEL_WORDS.items() for x in pair])
        label_col = mapping[word]
        problem = problem.when(
            label_col.isNull(), F.concat(F.lit("invalid label '"), word, F.lit("'"))
        )
    frame = frame.withColumn("url", F.coalesce("_corrupt", "url"))
    return _uniform(frame, source, label_col, _seen_at(fmt), problem)


def _seen_at(fmt: str) -> Column:
    if fmt in ("labelled", "labelled_nodate"):
        return F.try_to_timestamp(F.col("date")) if fmt == "labelled" else F.lit(None)
    column = {"jpcert": "date", "phishtank": "submission_time", "citizenlab": "date_added"}[fmt]
    parsed = F.try_to_timestamp(F.col(column), F.lit(DATE_FORMATS[fmt]))
    return F.to_utc_timestamp(parsed, "Asia/Tokyo") if fmt == "jpcert" else parsed


def _uniform(frame: DataFrame, source: str, label: Column, seen_at: Column, problem) -> DataFrame:
    url = F.col("url")
    valid_text = F.coalesce(F.is_valid_utf8(url) & ~F.contains(url, F.lit("\ufffd")), F.lit(True))
    reason = F.when(~valid_text, F.lit("invalid UTF-8"))
    if problem is not None:
        reason = F.coalesce(problem.cast("string"), reason)
    return frame.select(
        F.input_file_name().alias("file"),
        F.lit(source).alias("source"),
        label.cast("int").alias("label_hint"),
        seen_at.cast("timestamp").alias("seen_at"),
        F.make_valid_utf8(url).alias("raw_url"),  # shown in the quarantine as U+FFFD
        reason.cast("string").alias("reason"),
    )


def parse_rows(rows: DataFrame, max_url_length: int, corpus: Path) -> DataFrame:
    """Add the parsed URL fields; a row that cannot be parsed gets its `reason` instead.
    `file` becomes the feed's path relative to `corpus`."""
    root = corpus.resolve()

    def parse_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            names = {uri: relative_file(uri, root) for uri in batch["file"].unique()}
            batch["file"] = batch["file"].map(names)
            yield _parse_batch(batch, max_url_length)

    return rows.mapInPandas(parse_batches, PARSED_SCHEMA)


def relative_file(uri: str, corpus: Path) -> str:
    """A feed's path relative to the corpus, from the URI Spark names it by (percent-encoded:
    a file named `a%20b.csv` is `a%2520b.csv` there)."""
    path = Path(unquote(urlparse(uri).path))
    try:
        return path.relative_to(corpus).as_posix()
    except ValueError:
        return str(path)


def _parse_batch(batch: pd.DataFrame, max_url_length: int) -> pd.DataFrame:
    parsed: dict[str, list] = {name: [] for name in URL_COLUMNS}
    reasons = []
    for raw, reason in zip(batch["raw_url"], batch["reason"], strict=True):
        result = None
        if reason is None or pd.isna(reason):
            try:
                result = parse_url(raw, max_url_length)
            except UrlError as err:
                reason = str(err)
            except Exception as err:  # a parser bug costs this row, never the stage
                reason = unparseable_reason(err)
        reasons.append(reason)
        for name, values in parsed.items():
            values.append(getattr(result, name) if result else None)
    out = batch.assign(reason=reasons, **parsed)
    out["port"] = out["port"].astype("Int32")
    return out


def dedupe_per_feed(valid: DataFrame) -> DataFrame:
    """One row per (source, url_key): the earliest sighting, with how often it was seen."""
    per_url = Window.partitionBy("source", "url_key")
    order = per_url.orderBy(F.col("seen_at").asc_nulls_last(), "url")
    return (
        valid.withColumn("n_seen", F.count("*").over(per_url))
        .withColumn("_rank", F.row_number().over(order))
        .where("_rank = 1")
        .select(*INGESTED_COLUMNS)
    )


def ingest_corpus(
    spark: SparkSession,
    corpus: Path,
    feeds: list[FeedFile],
    max_url_length: int,
    out: Path,
    quarantine: Path,
    sample: tuple[float, int] = (1.0, 0),
) -> dict:
    """Run the whole ingest on the `feeds` of `corpus` (angler.data.feeds.discover_feeds);
    write Parquet to `out`, bad rows to `quarantine`. `sample` is (fraction, seed): keep
    that share of the sites, whole, chosen by a seeded hash (1.0 keeps everything)."""
    log.info("reading %d feed files from %s", len(feeds), corpus)
    parsed = parse_rows(read_feeds(spark, feeds, corpus), max_url_length, corpus).persist()
    per_file = {row["file"]: row["count"] for row in parsed.groupBy("file").count().collect()}
    rows_read = sum(per_file.values())
    bad = parsed.where(F.col("reason").isNotNull()).select("file", "source", "reason", "raw_url")
    write_quarantine(bad.toPandas(), quarantine)
    valid = parsed.where(F.col("reason").isNull())
    n_valid = valid.count()
    fraction, seed = sample
    if fraction < 1:
        valid = valid.where(site_share(seed) < fraction)
    n_sampled = valid.count() if fraction < 1 else n_valid
    write_table(dedupe_per_feed(valid), out, ["source", "url_key"])
    rows_out = spark.read.parquet(str(out)).count()
    reasons = quarantine_reasons(bad)
    parsed.unpersist()
    files = []
    for feed in feeds:
        name = str(feed.path.relative_to(corpus))
        files.append(
            {
                "file": name,
                "format": feed.format,
                "source": feed.source,
                "rows": per_file.get(name, 0),
            }
        )
    return {
        "corpus": str(corpus),
        "files": files,
        "rows_in": rows_read,
        "rows_out": rows_out,
        "quarantined": rows_read - n_valid,
        "sampled_out": n_valid - n_sampled,
        "duplicates": n_sampled - rows_out,
        "quarantine_reasons": reasons,
    }


def site_share(seed: int) -> Column:
    """A seeded number in [0, 1) for each row's site: the same for every URL of a site.
    Salted, so that it is independent of the split's hash of the same site and seed: a
    sample of a quarter of the sites must not be a quarter that is all test."""
    buckets = 1_000_000
    key = F.xxhash64(F.lit(seed), F.lit("sample"), "registered_domain")
    return F.pmod(key, F.lit(buckets)) / buckets


def quarantine_reasons(bad: DataFrame) -> dict[str, int]:
    counts = bad.groupBy("reason").count().orderBy(F.desc("count"), "reason").collect()
    return {row["reason"]: row["count"] for row in counts}


def write_quarantine(rows: pd.DataFrame, path: Path) -> None:
    """Quarantined rows as one human-readable CSV (created even when empty)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.sort_values(["file", "reason", "raw_url"]).to_csv(path, index=False)
