"""The revision a pull request is compared with: its files in git, its DVC outputs, and
`dvc` diffs against it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from angler.errors import AnglerError

log = logging.getLogger(__name__)


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
    command = [_dvc(), *args, "--json"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        message = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise AnglerError(f"`dvc {' '.join(args)}` failed: {message}")
    return json.loads(result.stdout or "{}")


def fetch_output(root: Path, rev: str, path: str, dest: Path) -> Path:
    """Copy a DVC-tracked output as it was at `rev` into `dest`, from the local cache or
    the DVC remote; on failure nothing of it is left in `dest`."""
    from dvc.api import DVCFileSystem

    try:
        DVCFileSystem(str(root), rev=rev).get(path, str(dest), recursive=True)
    except Exception as err:  # DVC raises many kinds (missing cache, remote, auth)
        shutil.rmtree(dest, ignore_errors=True)  # the files it got before the missing one
        raise BaseUnavailable(
            f"{path} at {rev[:12]} is not in the DVC cache or remote: {err}"
        ) from None
    return dest


def reproduce_output(root: Path, rev: str, path: str, dest: Path) -> Path:
    """Reproduce a DVC output of `rev` in a scratch worktree sharing this checkout's cache,
    and copy it to `dest`. After a `dvc repro` of the same revision the stages come back
    from DVC's run cache in seconds; otherwise they run (their MLflow runs go to a store in
    the scratch folder, never the real one)."""
    scratch = dest.parent / "worktree"
    shown = subprocess.run([_dvc(), "cache", "dir"], cwd=root, capture_output=True, text=True)
    cache = str((root / (shown.stdout.strip() or ".dvc/cache")).resolve())
    _run(root, "git", "worktree", "add", "--quiet", "--detach", str(scratch), rev)
    try:
        _run(scratch, _dvc(), "cache", "dir", "--local", cache)
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{dest.parent / 'mlflow.db'}"}
        stage = _producing_stage(scratch, path)
        _run_showing(scratch, _dvc(), "repro", stage, env=env)
        shutil.copytree(scratch / path, dest)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(scratch)], cwd=root)
    return dest


def _producing_stage(repo: Path, path: str) -> str:
    import yaml

    stages = yaml.safe_load((repo / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for name, stage in stages.items():
        if path in stage.get("outs", []):
            return name
    raise BaseUnavailable(f"no stage of the base revision writes {path}")


def _dvc() -> str:
    dvc = Path(sys.executable).with_name("dvc")
    return str(dvc) if dvc.exists() else shutil.which("dvc") or "dvc"


def _run(cwd: Path, *command: str, env: dict | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        last = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
        raise BaseUnavailable(f"`{' '.join(command[:3])}` failed in {cwd}: {last}")


def _run_showing(cwd: Path, *command: str, env: dict | None = None) -> None:
    """_run, with each line of the command's output logged as it comes: a rebuild can
    take minutes, and its stages' own lines are its progress."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    last = "no output"
    for line in process.stdout:
        if line.strip():
            last = line.strip()
            log.info("base revision: %s", last)
    if process.wait() != 0:
        raise BaseUnavailable(f"`{' '.join(command[:3])}` failed in {cwd}: {last}")
