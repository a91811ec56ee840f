"""The `angler` command: one subcommand per pipeline stage (angler/stages/) and one per
command around them (angler/commands/), registered by one loop."""

from __future__ import annotations

import functools
import importlib
import logging
import os
from collections.abc import Callable

import typer

from angler.commands import COMMANDS
from angler.errors import AnglerError

app = typer.Typer(
    help="Angler: phishing-URL detection pipeline. Each stage command is what dvc.yaml runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


STAGES = (
    "ingest",
    "label",
    "split",
    "featurize",
    "validate",
    "train",
    "evaluate",
    "export",
    "monitor",
)


def _register(module: str, name: str) -> None:
    """Register <module>.main as `angler <name>` (its heavy imports wait for main)."""
    main = importlib.import_module(module).main

    @functools.wraps(main)
    def command(*args, **kwargs):
        _run(name, main, *args, **kwargs)

    app.command(name)(command)


def _run(name: str, func: Callable, *args, **kwargs) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s angler {name}: %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("py4j", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        func(*args, **kwargs)
    except AnglerError as err:
        typer.echo(f"angler {name}: error: {err}", err=True)
        raise typer.Exit(2) from None


for _name in STAGES:
    _register(f"angler.stages.{_name}", _name)
for _name in COMMANDS:
    _register(f"angler.commands.{_name.replace('-', '_')}", _name)
