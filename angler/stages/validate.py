"""`angler validate`: the Great Expectations gate between the data and the model stages."""

import logging
from pathlib import Path
from typing import Annotated

import typer

from angler.errors import AnglerError
from angler.options import ParamsOption, ReportOption

log = logging.getLogger(__name__)


class DataCheckFailed(AnglerError):
    """At least one expectation failed; the report names each one."""


def main(
    labelled: Annotated[Path, typer.Option(help="The label stage's Parquet output.")],
    features: Annotated[Path, typer.Option(help="The featurize stage's feature table.")],
    report: ReportOption,
    docs: Annotated[Path, typer.Option(help="Folder for the GX Data Docs HTML.")],
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Run the Great Expectations data checks; exit non-zero if any fails.

    Suites on the labelled URLs and the feature table; writes the JSON report and the
    GX Data Docs HTML either way.
    """
    import pandas as pd

    from angler.data.checks import run_data_checks
    from angler.params import load_params
    from angler.reports import write_report

    params = load_params(params_path)
    labelled_rows = pd.read_parquet(labelled)
    labelled_rows["sources"] = labelled_rows["sources"].map(",".join)
    result = run_data_checks(
        labelled_rows,
        pd.read_parquet(features),
        params.validate,
        params.data.max_url_length,
        docs,
    )
    write_report(report, "validate", result)
    checked = sum(len(suite["results"]) for suite in result["suites"].values())
    log.info("%d of %d expectations passed", checked - len(result["failed"]), checked)
    if not result["success"]:
        failed = "\n  ".join(result["failed"])
        raise DataCheckFailed(f"{len(result['failed'])} data check(s) failed:\n  {failed}")
