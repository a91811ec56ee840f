"""The last task of scheduled retraining: a branch with the retrained pipeline state, pushed,
and a pull request for it with the same report a researcher's PR gets. The merge promotes;
the orchestrator never deploys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from angler.errors import AnglerError

STATE = ["dvc.lock", "metrics", "plots", "reports"]


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if result.returncode != 0:
        raise AnglerError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def push_retrain_branch(repo: Path, branch: str, remote: str = "origin") -> bool:
    """Commit the pipeline state on `branch` and push it; False when nothing changed."""
    git(repo, "switch", "--quiet", "-C", branch)
    git(repo, "add", "--", *STATE)
    if not git(repo, "diff", "--cached", "--name-only"):
        return False
    git(
        repo,
        "-c",
        "user.name=angler-retrain",
        "-c",
        "user.email=ci@angler.invalid",
        "commit",
        "--quiet",
        "-m",
        f"Retrain: pipeline state of {branch}",
    )
    git(repo, "push", "--quiet", "--force", remote, branch)
    return True


def has_dvc_remote(repo: Path) -> bool:
    """Whether the checkout's DVC configuration, at any level (--local too), has a remote."""
    dvc = Path(sys.executable).with_name("dvc")
    listed = subprocess.run([str(dvc), "remote", "list"], cwd=repo, capture_output=True, text=True)
    if listed.returncode != 0:
        raise AnglerError(f"dvc remote list: {listed.stderr.strip()}")
    return bool(listed.stdout.strip())


def pull_request_body(repo: Path, base: str) -> str:
    """`angler report` against the base branch: the comment a PR would get (also left in
    the checkout's comment/ folder, like the PR workflow's)."""
    angler = Path(sys.executable).with_name("angler")
    out = repo / "comment"
    remote = "--remote" if has_dvc_remote(repo) else "--no-remote"
    subprocess.run(
        [str(angler), "report", "--base", base, "--base-name", base, remote, "--out", str(out)],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    body = out / "comment.md"
    if not body.exists():
        raise AnglerError(f"angler report wrote no comment in {out}")
    return body.read_text(encoding="utf-8")


def open_pull_request(repository: str, token: str, branch: str, body: str) -> str:
    """Open the pull request on GitHub; return its URL."""
    from angler.review.github_comment import GitHub

    created = GitHub(token).request(
        "POST",
        f"/repos/{repository}/pulls",
        {"title": f"Scheduled retraining: {branch}", "head": branch, "base": "main", "body": body},
    )
    return created["html_url"]
