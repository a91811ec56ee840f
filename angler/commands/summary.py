"""`angler summary`: what the last pipeline run did."""

from pathlib import Path
from typing import Annotated

import typer


def main(
    reports: Annotated[Path, typer.Option(help="The reports folder.")] = Path("reports"),
    metrics: Annotated[Path, typer.Option(help="The evaluate stage's metrics.")] = Path(
        "metrics/evaluate.json"
    ),
) -> None:
    """Print what the last pipeline run did and the evaluation metrics."""
    from angler.summary import render_metrics, render_summary

    typer.echo(render_summary(reports))
    typer.echo()
    typer.echo(render_metrics(metrics))
