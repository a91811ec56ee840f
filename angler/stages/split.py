"""`angler split`: labelled URLs -> the same rows with a domain-disjoint `split` column."""

from pathlib import Path
from typing import Annotated

import typer

from angler.options import ParamsOption, ReportOption


def main(
    labelled: Annotated[Path, typer.Option(help="The label stage's Parquet output.")],
    out: Annotated[Path, typer.Option(help="Parquet output directory.")],
    report: ReportOption,
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Split by registered domain into train/validation/test and a temporal slice.

    Whole domains go to one split by a seeded hash; domains first seen in the newest
    split.temporal_months months of dated feeds form the temporal test slice.
    """
    from angler.data.spark import spark_session, write_table
    from angler.data.splits import assign_splits, split_report, temporal_cutoff
    from angler.params import load_params
    from angler.reports import write_report

    params = load_params(params_path)
    spark = spark_session("split")
    rows = spark.read.parquet(str(labelled))
    cutoff = temporal_cutoff(rows, params.split.temporal_months)
    write_table(assign_splits(rows, params.split, params.base.seed, cutoff), out, ["url_key"])
    result = split_report(rows.count(), spark.read.parquet(str(out)), cutoff)
    write_report(report, "split", result)
