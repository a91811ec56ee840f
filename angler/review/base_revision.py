"""The revision a pull request is compared with: its files in git, its DVC outputs, and
`dvc` diffs against it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from angler.errors import AnglerError


class BaseUnavailable(AnglerError):
    """Something of the base revision cannot be read."""


def git_show(root: Path, rev: str, path: str) -> str | None:
    """A file's text at `rev`, or None when the revision does not have it."""
    result = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, text=True
    )
    return result.stdout if result.returncode == 0 else None


def resolve(root: Path, rev: str) -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BaseUnavailable(f"base revision {rev!r} is not in this repository")
    return result.stdout.strip()


def dvc_json(root: Path, *args: str) -> dict:
    """`dvc <args> --json`, parsed; the dvc next to this Python comes first."""
    dvc = Path(sys.executable).with_name("dvc")
    command = [str(dvc) if dvc.exists() else shutil.which("dvc") or "dvc", *args, "--json"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        message = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise AnglerError(f"`dvc {' '.join(args)}` failed: {message}")
    return json.loads(result.stdout or "{}")


def fetch_output(root: Path, rev: str, path: str, dest: Path) -> Path:
    """Copy a DVC-tracked output as it was at `rev` into `dest`, from the local cache or
    the DVC remote."""
    from dvc.api import DVCFileSystem

    try:
        DVCFileSystem(str(root), rev=rev).get(path, str(dest), recursive=True)
    except Exception as err:  # DVC raises many kinds (missing cache, remote, auth)
        raise BaseUnavailable(
            f"{path} at {rev[:12]} is not in the DVC cache or remote: {err}"
        ) from None
    return dest
