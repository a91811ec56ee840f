"""Scheduled retraining's git side: the commit a run trains, pinned before its first stage,
and its last task, a branch with the retrained pipeline state on top of that commit, pushed,
with a pull request carrying the same report a researcher's PR gets. The merge promotes; the
orchestrator never deploys."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from angler.errors import AnglerError

STATE = ["dvc.lock", "metrics", "plots", "reports"]
AUTHOR = ["-c", "user.name=angler-retrain", "-c", "user.email=ci@angler.invalid"]


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )
    if result.returncode != 0:
        raise AnglerError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def pin_commit(repo: Path, revision: str | None = None, remote: str = "origin") -> str:
    """Put the checkout, detached, on the commit this run trains and return it: `revision`,
    else the remote's main after a fetch, else the local main. What an earlier run left in
    the pipeline state is dropped (this run reproduces it); any other change is refused."""
    if revision is None:
        if remote in git(repo, "remote").split():
            git(repo, "fetch", "--quiet", remote)
            revision = f"{remote}/main"
        else:
            revision = "main"
    commit = git(
        repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
    )
    outside_state = [f":(exclude){path}" for path in STATE]
    changed = git(repo, "status", "--porcelain", "--untracked-files=no", "--", ".", *outside_state)
    if changed:
        raise AnglerError(f"the checkout {repo} has changes outside the pipeline state:\n{changed}")
    git(repo, "switch", "--quiet", "--discard-changes", "--detach", commit)
    return commit


def push_retrain_branch(repo: Path, branch: str, commit: str, remote: str = "origin") -> bool:
    """Commit the pipeline state on top of `commit` and push it as `branch`, without moving
    the checkout (a scratch index, not a switch); False when nothing changed."""
    if (head := git(repo, "rev-parse", "HEAD")) != commit:
        raise AnglerError(f"the checkout moved from the run's commit {commit} to {head}")
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(repo, "read-tree", commit, env=index)
        git(repo, "add", "--", *STATE, env=index)
        tree = git(repo, "write-tree", env=index)
    if tree == git(repo, "rev-parse", f"{commit}^{{tree}}"):
        return False
    message = f"Retrain: pipeline state of {branch}"
    retrained = git(repo, *AUTHOR, "commit-tree", tree, "-p", commit, "-m", message)
    git(repo, "push", "--quiet", "--force", remote, f"{retrained}:refs/heads/{branch}")
    return True


def has_dvc_remote(repo: Path) -> bool:
    """Whether the checkout's DVC configuration, at any level (--local too), has a remote."""
    dvc = Path(sys.executable).with_name("dvc")
    listed = subprocess.run([str(dvc), "remote", "list"], cwd=repo, capture_output=True, text=True)
    if listed.returncode != 0:
        raise AnglerError(f"dvc remote list: {listed.stderr.strip()}")
    return bool(listed.stdout.strip())


def pull_request_body(repo: Path, base: str, base_name: str) -> str:
    """`angler report` against the base commit: the comment a PR would get (also left in
    the checkout's comment/ folder, like the PR workflow's)."""
    angler = Path(sys.executable).with_name("angler")
    out = repo / "comment"
    remote = ["--remote"] if has_dvc_remote(repo) else ["--no-remote"]
    subprocess.run(
        [
            str(angler),
            "report",
            "--base",
            base,
            "--base-name",
            base_name,
            *remote,
            "--out",
            str(out),
        ],
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
