"""`angler demo-data`: the seeded demo corpus as files."""

from pathlib import Path
from typing import Annotated

import typer


def main(
    out: Annotated[Path, typer.Option(help="Folder to write the demo corpus into.")],
    size: Annotated[int, typer.Option(help="Rows to write.")] = 20000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
) -> None:
    """Write the seeded demo corpus (the same files ingest reads with data.corpus: demo)."""
    from angler.data.demo import write_demo_corpus

    counts = write_demo_corpus(out, size, seed)
    typer.echo(f"wrote {sum(counts.values())} rows in {len(counts)} files under {out}")
