"""A throwaway git repository holding this working tree, as a fresh clone would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from helpers.paths import REPO_ROOT, write_params

AUTHOR = ["-c", "user.email=test@angler.invalid", "-c", "user.name=test"]


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *AUTHOR, *args], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


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
