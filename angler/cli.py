"""The `angler` command: one subcommand per pipeline stage (angler/stages/) and one per
command around them (angler/commands/), registered by one loop."""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from angler.commands import COMMANDS
from angler.errors import AnglerError
from angler.quiet import VERBOSE, drop_library_noise


class _FlagHelp:
    """A flag (--help, --remote/--no-remote) takes no value: no "<bool>" beside it."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params


class Command(_FlagHelp, typer.core.TyperCommand):
    pass


class Group(_FlagHelp, typer.core.TyperGroup):
    pass


app = typer.Typer(
    cls=Group,
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

TENSORFLOW_COMMANDS = ("train", "evaluate", "export", "replay", "report")


def _register(module: str, name: str) -> None:
    """Register <module>.main as `angler <name>` (its heavy imports wait for main)."""
    main = importlib.import_module(module).main

    @functools.wraps(main)
    def command(*args, **kwargs):
        _run(name, main, *args, **kwargs)

    app.command(name, cls=Command, help=unwrapped(main.__doc__ or ""))(command)


def unwrapped(docstring: str) -> str:
    """A docstring's paragraphs as single lines (the terminal wraps them), list items kept
    on lines of their own: `--help` breaks no sentence where the source did."""
    paragraphs = []
    for paragraph in inspect.cleandoc(docstring).split("\n\n"):
        lines = []
        for line in paragraph.splitlines():
            if lines and not re.match(r"\s*([-*]|\d+\.) ", line):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


@app.callback()
def _options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help=f"Keep TensorFlow's, absl's and MLflow's own log lines (or {VERBOSE}=1).",
        ),
    ] = False,
) -> None:
    if verbose:
        os.environ[VERBOSE] = "1"


def _run(name: str, func: Callable, *args, **kwargs) -> None:
    drop_library_noise(tensorflow=name in TENSORFLOW_COMMANDS)
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s angler {name}: %(message)s", datefmt="%H:%M:%S"
    )
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # set when mlflow is imported
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for noisy in ("py4j", "great_expectations", "botocore", "aiobotocore", "s3fs"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A TERM (a cancelled CI job, a pod stopped) unwinds like an error: `with` blocks close
    # their MLflow run as FAILED and remove their temporary folders.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        func(*args, **kwargs)
    except AnglerError as err:
        fail(name, str(err))
    except OSError as err:  # a full or read-only disk, a missing file: the machine, not a bug
        fail(name, describe_os_error(err))
    except Exception as err:
        if not is_tracking_error(err):
            raise
        fail(name, f"MLflow tracking: {one_line(str(err))}")


def describe_os_error(err: OSError) -> str:
    """`path: reason`; shutil.copytree's error lists (source, target, reason) per file."""
    if isinstance(err, shutil.Error) and err.args and isinstance(err.args[0], list):
        _, target, why = err.args[0][0]
        reason = re.match(r"\[Errno \d+\] ([^:]+)", str(why))
        return f"{target}: {reason.group(1) if reason else why}"
    where = f"{err.filename}: " if err.filename else ""
    return f"{where}{err.strerror or err}"


def fail(name: str, message: str) -> None:
    typer.echo(f"angler {name}: error: {message}", err=True)
    raise typer.Exit(2)


def is_tracking_error(err: Exception) -> bool:
    """An MLflow or HTTP failure (a server down or refusing): mlflow is imported only by the
    commands that talk to it, so it is looked up, not imported, here."""
    exceptions = sys.modules.get("mlflow.exceptions")
    requests = sys.modules.get("requests.exceptions")
    kinds = tuple(
        kind
        for kind in (
            getattr(exceptions, "MlflowException", None),
            getattr(requests, "RequestException", None),
        )
        if kind is not None
    )
    return bool(kinds) and isinstance(err, kinds)


def one_line(text: str, limit: int = 400) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


for _name in STAGES:
    _register(f"angler.stages.{_name}", _name)
for _name in COMMANDS:
    _register(f"angler.commands.{_name.replace('-', '_')}", _name)
