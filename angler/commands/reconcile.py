"""`angler reconcile`: does the registry's champion match what git pins?"""

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from angler.options import DEFAULT_OVERLAYS, DEFAULT_STORE, EnvOption, OverlaysOption, StoreOption


def main(
    env: EnvOption = "production",
    overlays: OverlaysOption = DEFAULT_OVERLAYS,
    store: StoreOption = DEFAULT_STORE,
    write: Annotated[
        bool, typer.Option(help="On drift, promote the alias's version in the overlay.")
    ] = False,
) -> None:
    """Check that the registry's `champion` alias is the version git pins.

    Exits 1 on drift; with --write it also writes the promotion that would make git agree,
    for a pull request to review (the alias was moved outside git)."""
    from angler.deploy.registry import champion_version, model_folder_for
    from angler.deploy.serving import MODEL_ENV, read_promotion
    from angler.deploy.serving import promote as promote_model

    pinned = read_promotion(overlays / env / MODEL_ENV).stable.version
    alias = champion_version()
    if alias == pinned:
        typer.echo(f"in sync: git and the registry's champion are both version {pinned}")
        return
    typer.echo(
        f"drift: git pins version {pinned} for {env}, the registry's champion is "
        f"{alias or 'not set'}"
    )
    if write and alias is not None:
        with tempfile.TemporaryDirectory() as scratch:
            folder = model_folder_for(alias, Path(scratch))
            promote_model(folder, store, overlays / env / MODEL_ENV)
        typer.echo(f"wrote {overlays / env / MODEL_ENV}: open a pull request with it")
    raise typer.Exit(1)
