"""`angler label`: per-feed sightings -> one labelled row per URL (Parquet)."""

from pathlib import Path
from typing import Annotated

import typer

from angler.options import ReportOption


def main(
    ingested: Annotated[Path, typer.Option(help="The ingest stage's Parquet output.")],
    out: Annotated[Path, typer.Option(help="Parquet output directory.")],
    report: ReportOption,
) -> None:
    """Label each URL from the detection feeds that list it.

    Phishing feeds give 1, benign and allow lists give 0; a URL listed by both is phishing
    and counted as a conflict.
    """
    from angler.data.labels import label_report, label_urls
    from angler.data.spark import spark_session, write_table
    from angler.reports import write_report

    spark = spark_session("label")
    sightings = spark.read.parquet(str(ingested))
    write_table(label_urls(sightings), out, ["url_key"])
    labelled = spark.read.parquet(str(out))
    write_report(report, "label", label_report(sightings.count(), labelled))
