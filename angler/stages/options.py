"""Command-line options shared by the stage commands."""

from pathlib import Path
from typing import Annotated

import typer

ParamsOption = Annotated[
    Path, typer.Option("--params", help="The pipeline's params.yaml.", dir_okay=False)
]
ReportOption = Annotated[Path, typer.Option(help="Where to write the stage's JSON report.")]
ShardsOption = Annotated[Path, typer.Option(help="The featurize stage's shard folder.")]
KerasModelOption = Annotated[Path, typer.Option(help="The train stage's Keras model.")]
TrainReportOption = Annotated[Path, typer.Option(help="The train stage's report (MLflow run).")]


def project_root(params_path: Path) -> Path:
    """Relative paths in params.yaml (such as data.corpus) are relative to its folder."""
    return params_path.resolve().parent
