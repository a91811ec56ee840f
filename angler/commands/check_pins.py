"""`angler check-pins`: does a promote verdict back every pinned model?"""

from pathlib import Path
from typing import Annotated

import typer

from angler.options import DEFAULT_OVERLAYS, OverlaysOption


def main(
    overlays: OverlaysOption = DEFAULT_OVERLAYS,
    approvals: Annotated[Path, typer.Option(help="The record of approved pins.")] = Path(
        "k8s/approvals.json"
    ),
) -> None:
    """Check that every overlay pins only versions a promote verdict approved.

    Exits 1 and names each pin with no record in --approvals (written by `angler promote
    --verdict`): the push to main that carries it must not reach the registry or the
    store."""
    from angler.deploy.approvals import read_approvals, unapproved_pins

    problems = unapproved_pins(overlays, read_approvals(approvals))
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"every pin under {overlays} has a promote verdict in {approvals}")
