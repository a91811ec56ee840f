"""`angler featurize`: split URLs -> lexical feature table and TensorFlow input shards."""

from pathlib import Path
from typing import Annotated

import typer

from angler.options import ParamsOption, ReportOption


def main(
    split: Annotated[Path, typer.Option(help="The split stage's Parquet output.")],
    features: Annotated[Path, typer.Option(help="Feature table output (Parquet).")],
    shards: Annotated[Path, typer.Option(help="Shard output folder, one subfolder per split.")],
    report: ReportOption,
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Compute the lexical feature table and write the TensorFlow input shards."""
    from angler.data.featurize import feature_table, write_shards
    from angler.data.spark import spark_session, write_table
    from angler.params import load_params
    from angler.reports import write_report

    params = load_params(params_path)
    spark = spark_session("featurize")
    rows = spark.read.parquet(str(split))
    table = feature_table(rows, params.featurize.suspicious_tokens)
    write_table(table, features, ["url_key"])
    per_split = write_shards(rows, shards, params.featurize.shards, params.base.seed)
    result = {
        "rows_in": rows.count(),
        "rows_out": spark.read.parquet(str(features)).count(),
        "shards": per_split,
    }
    write_report(report, "featurize", result)
