"""Throwaway git repositories holding this working tree, as a fresh clone would, and the
pipeline reproduced in one of them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.paths import REPO_ROOT, write_params

AUTHOR = ["-c", "user.email=test@angler.invalid", "-c", "user.name=test"]
BIN = Path(sys.executable).parent


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *AUTHOR, *args], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def checkout_state(repo: Path) -> tuple[str, str, str]:
    """What a user sees of their checkout: branch, HEAD and `git status`."""
    return (
        git(repo, "branch", "--show-current"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "status", "--porcelain"),
    )


def copy_repo(root: Path, **params) -> Path:
    """Tracked and untracked-but-not-ignored files (so uncommitted work is tested too), the
    `section.key` params overrides, one commit on `main`, and the project's environment."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        if (REPO_ROOT / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, root / name)
    write_params(root / "params.yaml", **params)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "copy of the working tree")
    (root / ".venv").symlink_to(REPO_ROOT / ".venv")
    return root


def pipeline_env(repo: Path) -> dict[str, str]:
    """What a developer's shell has: the venv's tools first, MLflow in the checkout."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "ANGLER_SPARK_LOG_LEVEL": "ERROR",
        "MLFLOW_TRACKING_URI": f"sqlite:///{repo / 'mlflow.db'}",
    }


def reproduce_and_commit(repo: Path) -> Path:
    """`dvc repro`, then a commit of what it changed (dvc.lock, metrics, reports)."""
    done = subprocess.run(
        [str(BIN / "dvc"), "repro"],
        cwd=repo,
        env=pipeline_env(repo),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main's pipeline, reproduced")
    return repo


def copy_checkout(source: Path, target: Path) -> Path:
    """A copy of a checkout with its DVC cache (a developer's machine that ran main), less
    its MLflow store and DVC's lock and state files, which belong to the original's paths."""
    shutil.copytree(
        source,
        target,
        symlinks=True,
        ignore=lambda folder, names: [
            name
            for name in names
            if name in ("mlflow.db", "mlruns") or (Path(folder).name == ".dvc" and name == "tmp")
        ],
    )
    return target
