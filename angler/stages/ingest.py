"""`angler ingest`: raw feeds -> parsed, normalised, per-feed deduped URLs (Parquet)."""

import logging
from pathlib import Path
from typing import Annotated

import typer

from angler.options import ParamsOption, ReportOption, project_root

log = logging.getLogger(__name__)


def main(
    out: Annotated[Path, typer.Option(help="Parquet output directory.")],
    quarantine: Annotated[Path, typer.Option(help="CSV of rows that could not be used.")],
    report: ReportOption,
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Read the raw feeds, normalise and parse URLs, quarantine bad rows.

    Reads every feed of data.corpus with Spark (or the seeded demo corpus), quarantines
    malformed rows with a reason, and dedupes each feed by url_key. With
    data.sample_fraction below 1, keeps that share of the sites (a quick run).
    """
    import tempfile

    from angler.data.demo import write_demo_corpus
    from angler.data.feeds import discover_feeds
    from angler.data.ingest import ingest_corpus
    from angler.data.spark import spark_session
    from angler.params import load_params
    from angler.reports import write_report

    params = load_params(params_path)
    corpus = params.data.corpus_path(project_root(params_path))
    with tempfile.TemporaryDirectory(prefix="angler-demo-") as demo_dir:
        if corpus is None:
            corpus = Path(demo_dir)
            counts = write_demo_corpus(corpus, params.data.demo_size, params.base.seed)
            log.info(
                "generated a demo corpus of %d rows (seed %d)",
                sum(counts.values()),
                params.base.seed,
            )
        feeds = discover_feeds(corpus)  # a wrong corpus fails here, before Spark starts
        spark = spark_session("ingest")
        result = ingest_corpus(
            spark,
            corpus,
            feeds,
            params.data.max_url_length,
            out,
            quarantine,
            (params.data.sample_fraction, params.base.seed),
        )
    if params.data.corpus == "demo":
        result["corpus"] = "demo"
    write_report(report, "ingest", result)
