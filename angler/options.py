"""Command-line options shared by the `angler` commands, each declared once."""

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
ExportedModelOption = Annotated[Path, typer.Option(help="The export stage's model folder.")]
StoreOption = Annotated[
    str,
    typer.Option(
        envvar="ANGLER_MODEL_STORE",
        help="Model store: a folder or an fsspec URL (s3://...) holding <version>/ folders.",
    ),
]
EnvOption = Annotated[str, typer.Option(help="Environment: an overlay under --overlays.")]
OverlaysOption = Annotated[Path, typer.Option(help="Kustomize overlays folder.")]

DEFAULT_STORE = "model-store/angler"
DEFAULT_OVERLAYS = Path("k8s/overlays")


def project_root(params_path: Path) -> Path:
    """Relative paths in params.yaml (such as data.corpus) are relative to its folder."""
    return params_path.resolve().parent
