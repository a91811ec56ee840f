"""`angler replay`: a month of the dated feeds as served traffic."""

from pathlib import Path
from typing import Annotated

import typer

from angler.options import ExportedModelOption, ParamsOption


def main(
    month: Annotated[str, typer.Option(help="The month to replay, YYYY-MM.")],
    out: Annotated[Path, typer.Option(help="Traffic file to write (Parquet).")],
    features: Annotated[Path, typer.Option(help="The featurize stage's feature table.")] = Path(
        "data/features"
    ),
    model: ExportedModelOption = Path("models/angler"),
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Write a month of the dated feeds as served traffic for `angler monitor`.

    The URLs first seen that month and benign test-split URLs to the monitor's expected class mix,
    with the model's scores."""
    from angler.monitor.replay import month_traffic, score_traffic
    from angler.params import load_params

    params = load_params(params_path)
    traffic = month_traffic(
        features, month, params.monitor.traffic_phishing_share, params.base.seed
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    score_traffic(traffic, model).to_parquet(out, index=False)
    typer.echo(f"wrote {len(traffic):,} URLs of {month} to {out}")
