"""`angler check-pins`: does the deployment ledger back every pinned model?"""

from angler.options import DEFAULT_OVERLAYS, DEFAULT_STORE, OverlaysOption, StoreOption


def main(overlays: OverlaysOption = DEFAULT_OVERLAYS, store: StoreOption = DEFAULT_STORE) -> None:
    """Check every overlay's pins against the ledger in the model store.

    A pin is backed when a promote job approved its version and digest and pinned it in that
    environment (production: taken from staging, now or before). Exits 1 naming each other
    pin: a pull request that pins by hand, or a rollback to a version production never ran,
    must not merge. The ledger is in the store, which pull requests cannot write."""
    import typer

    from angler.deploy.ledger import unbacked_pins

    problems = unbacked_pins(overlays, store)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"every pin under {overlays} is backed by the ledger in {store}")
