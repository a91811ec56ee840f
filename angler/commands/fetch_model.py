"""`angler fetch-model`: the serving pod's init step."""

import os
from pathlib import Path
from typing import Annotated

import typer

from angler.errors import AnglerError
from angler.options import DEFAULT_STORE, StoreOption


def main(
    out: Annotated[Path, typer.Option(help="Folder TF Serving reads (<out>/<version>/).")],
    config: Annotated[Path, typer.Option(help="Where to write the TF Serving model config.")],
    store: StoreOption = DEFAULT_STORE,
    promotion: Annotated[
        Path | None,
        typer.Option(
            help="A model.env file; default: the ANGLER_MODEL_* / ANGLER_CANARY_* variables."
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option(
            envvar="ANGLER_ENV",
            help="The environment serving (every k8s overlay sets it): each pin must be "
            "backed by the store's ledger there. Without it the ledger is not read.",
        ),
    ] = None,
) -> None:
    """Fetch the pinned model versions for TF Serving (the serving pod's init step).

    Fetches the pinned versions from the model store, refuses any whose SHA-256 differs
    from the pinned digest, and writes the TF Serving config. A model.env with anything but
    the four pin keys, or a malformed pin, is refused before anything is fetched, and so,
    with --env, is a pin that no promote job approved and pinned there."""
    from angler.deploy.ledger import NotApproved, pin_problem
    from angler.deploy.serving import fetch_model, promotion_from_env, read_promotion

    pinned = read_promotion(promotion) if promotion else promotion_from_env(os.environ)
    if env is not None:
        problems = [p for p in (pin_problem(store, env, pin) for pin in pinned.pins()) if p]
        if problems:
            raise NotApproved("; ".join(problems))
    elif promotion is None:
        raise AnglerError("ANGLER_ENV is not set: a serving pod checks its pins in the ledger")
    fetch_model(store, pinned, out, config)
    versions = ", ".join(str(pin.version) for pin in pinned.pins())
    typer.echo(f"fetched version(s) {versions} into {out}; config at {config}")
