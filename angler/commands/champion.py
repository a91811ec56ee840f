"""`angler champion`: the registry alias follows the version git pins."""

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from angler.options import DEFAULT_OVERLAYS, EnvOption, OverlaysOption


def main(
    env: EnvOption = "production",
    overlays: OverlaysOption = DEFAULT_OVERLAYS,
    check_only: Annotated[
        bool, typer.Option(help="Only check that the registry has the pinned model.")
    ] = False,
) -> None:
    """Move the MLflow alias `champion` to the version the environment pins.

    Only once the registry's copy is checked to have the pinned digest. Run after a
    promotion is merged: the registry follows git, never the other way round."""
    from angler.deploy.registry import check_version, set_champion
    from angler.deploy.serving import MODEL_ENV, read_promotion

    pin = read_promotion(overlays / env / MODEL_ENV).stable
    with tempfile.TemporaryDirectory() as scratch:
        if check_only:
            check_version(pin.version, pin.digest, Path(scratch))
            typer.echo(f"registry version {pin.version} is the model {env} pins")
            return
        previous = set_champion(pin.version, pin.digest, Path(scratch))
    typer.echo(f"champion: version {previous or 'none'} -> {pin.version} ({env})")
