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
    split.temporal_months months of their own dated source form the temporal test slice
    (each source ends at its own date, so the slice holds both classes).
    """
    from angler.data.spark import spark_session, write_table
    from angler.data.splits import assign_splits, split_report, temporal_cutoffs
    from angler.params import load_params
    from angler.reports import write_report

    params = load_params(params_path)
    spark = spark_session("split")
    rows = spark.read.parquet(str(labelled))
    cutoffs = temporal_cutoffs(rows, params.split.temporal_months)
    write_table(assign_splits(rows, params.split, params.base.seed, cutoffs), out, ["url_key"])
    result = split_report(rows.count(), spark.read.parquet(str(out)), cutoffs)
    write_report(report, "split", result)
