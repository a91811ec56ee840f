"""`angler reconcile`: does the registry's champion match what git pins?"""

from pathlib import Path
from typing import Annotated

import typer

from angler.options import DEFAULT_OVERLAYS, EnvOption, OverlaysOption


def main(
    env: EnvOption = "production",
    overlays: OverlaysOption = DEFAULT_OVERLAYS,
    report: Annotated[
        Path | None, typer.Option(help="On drift, write the drift report (Markdown) here.")
    ] = None,
) -> None:
    """Check that the registry's `champion` alias is the version git pins.

    Exits 1 on drift, with a report of what git and the registry say and what to do. It
    never publishes the alias's version or writes model.env: a version reaches an overlay
    only through a pull request the PR loop judges."""
    from angler.deploy.registry import check_alias, drift_report, drift_summary

    check = check_alias(env, overlays)
    if check.in_sync:
        typer.echo(f"in sync: git and the registry's champion are both version {check.pinned}")
        return
    text = drift_report(check)
    typer.echo(f"{drift_summary(check)}\n\n{text}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {report}")
    raise typer.Exit(1)
