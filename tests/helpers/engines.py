"""Real servers for tests (moto's S3, MLflow, Airflow): start one on 127.0.0.1 on a free
port, wait until it answers over HTTP, and stop it by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


class EngineFailed(RuntimeError):
    """A server exited or never answered; the message ends with its output."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(
    command: list[str],
    health_url: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[subprocess.Popen]:
    """Run `command` until the block ends; enter once `health_url` answers with a status
    under 500. Its output goes to a file, not a pipe nobody reads (a full pipe blocks it)."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else {**os.environ, **env},
            cwd=cwd,
            start_new_session=True,  # its own process group: workers it forks stop with it
        )
        try:
            _wait_until_answering(process, health_url, timeout, log)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group the server leads, then SIGKILL it after `grace` seconds."""
    if process.poll() is not None:
        return  # reaped: its PID may already belong to someone else
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_until_answering(process, url: str, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EngineFailed(f"{process.args[0]} exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as answer:
            if answer.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise EngineFailed(f"{url} did not answer within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log, size: int = 4000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-size:]


def mlflow_server_command(root: Path, port: int) -> list[str]:
    """`mlflow server` on 127.0.0.1:`port`: SQLite store and proxied artifacts under `root`."""
    return [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--serve-artifacts",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
