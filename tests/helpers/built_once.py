"""A session fixture that the whole test run builds once. `make test` runs pytest-xdist
workers, each its own process with its own session fixtures; an expensive one (a pipeline
run) is built by the first worker that asks for it, under a file lock in the run's shared
temporary folder, and the others wait for it and read it. Its users must not change it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

DONE, FAILED = ".built", ".failed"


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the whole run: a worker's own is a subfolder of it."""
    basetemp = tmp_path_factory.getbasetemp()
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """<run folder>/<name>, filled by `build(folder)` in the first worker to get here. A
    build that failed fails the others at once, with its error, rather than again."""
    shared = run_folder(tmp_path_factory)
    folder = shared / name
    with FileLock(shared / f"{name}.lock"):
        if (folder / FAILED).exists():
            error = (folder / FAILED).read_text()
            pytest.fail(f"{name}, built by another worker, failed:\n{error}")
        if not (folder / DONE).exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                build(folder)
            except BaseException as error:
                (folder / FAILED).write_text(f"{type(error).__name__}: {error}"[-5000:])
                raise
            (folder / DONE).touch()
    return folder
