"""Scheduled retraining's git side: the commit a run trains, checked out in a worktree of its
own before its first stage, and its last task, a branch with the retrained pipeline state on
top of that commit, pushed where configuration says, with a pull request carrying the same
report a researcher's PR gets. The merge promotes; the orchestrator never deploys, and never
moves, edits or pushes from the checkout it was pointed at."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from angler.errors import AnglerError

STATE = ["dvc.lock", "metrics", "plots", "reports"]
SERVED_TRAFFIC = ["*.parquet", "*.csv"]  # traffic/'s files, kept out of git (traffic/README.md)
AUTHOR = ["-c", "user.name=angler-retrain", "-c", "user.email=ci@angler.invalid"]


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if result.returncode != 0:
        raise AnglerError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def run_checkout(repo: Path, runs_dir: Path, run_id: str) -> Path:
    """Where one run's worktree goes: `<runs_dir>/<repo name>.<run id>`. Beside the
    repository by default (`runs_dir` = its parent), so a relative `data.corpus` such as
    `../shared/data` names the same folder from both."""
    return runs_dir / f"{repo.name}.{re.sub(r'[^A-Za-z0-9_.-]', '-', run_id)}"


def pin_commit(
    repo: Path, checkout: Path, revision: str | None = None, remote: str | None = None
) -> str:
    """Check out the commit this run trains in a worktree of its own, `checkout`, and return
    the commit: `revision`, else main of the push `remote` after a fetch, else the local main.
    The repository's own checkout is never touched. The worktree shares the repository's DVC
    cache (and its local DVC configuration), so what was built before is not built again,
    and its remotes (a local remote's relative path still names the repository's), and a
    copy of the served traffic the monitor stage reads."""
    if revision is None and remote:
        git(repo, "fetch", "--quiet", remote, "main")
        revision = git(repo, "rev-parse", "FETCH_HEAD")
    revision = revision or "main"
    try:
        commit = git(repo, "rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}")
    except AnglerError:
        raise AnglerError(f"no commit {revision} in {repo}") from None
    if checkout.exists():  # a retried pin: start again from the commit
        git(repo, "worktree", "remove", "--force", str(checkout))
    git(repo, "worktree", "add", "--quiet", "--detach", str(checkout), commit)
    config = repo / ".dvc" / "config.local"
    if config.exists():
        shutil.copy2(config, checkout / ".dvc" / "config.local")
    _dvc(checkout, "cache", "dir", "--local", _dvc(repo, "cache", "dir"))
    for name, url in re.findall(r"^remote\.(.+)\.url=(.*)$", _dvc(repo, "config", "--list"), re.M):
        if "://" not in url:  # a local path, resolved against the repository's .dvc/
            _dvc(checkout, "remote", "modify", "--local", name, "url", url)
    for name in SERVED_TRAFFIC:
        for file in (repo / "traffic").glob(name):
            shutil.copy2(file, checkout / "traffic" / file.name)
    return commit


def keep_retrain_branch(
    checkout: Path, branch: str, commit: str, remote: str | None = None
) -> str | None:
    """Commit the run's pipeline state on top of `commit` as `branch`: pushed to `remote`
    when one is configured, else a branch of the local repository only. None when nothing
    changed; else where the branch is."""
    if (head := git(checkout, "rev-parse", "HEAD")) != commit:
        raise AnglerError(f"the run's checkout moved from its commit {commit} to {head}")
    git(checkout, "add", "--", *STATE)
    tree = git(checkout, "write-tree")
    if tree == git(checkout, "rev-parse", f"{commit}^{{tree}}"):
        return None
    message = f"Retrain: pipeline state of {branch}"
    retrained = git(checkout, *AUTHOR, "commit-tree", tree, "-p", commit, "-m", message)
    if remote:
        git(checkout, "push", "--quiet", "--force", remote, f"{retrained}:refs/heads/{branch}")
        return f"{branch} on {remote}"
    git(checkout, "update-ref", f"refs/heads/{branch}", retrained)
    return f"{branch} in {git(checkout, 'rev-parse', '--path-format=absolute', '--git-common-dir')}"


def remove_run_checkout(repo: Path, checkout: Path) -> None:
    """The run is done (its branch and body kept): its worktree goes."""
    git(repo, "worktree", "remove", "--force", str(checkout))


def _dvc(checkout: Path, *args: str) -> str:
    dvc = Path(sys.executable).with_name("dvc")
    done = subprocess.run([str(dvc), *args], cwd=checkout, capture_output=True, text=True)
    if done.returncode != 0:
        raise AnglerError(f"dvc {' '.join(args)} in {checkout}: {done.stderr.strip()}")
    return done.stdout.strip()


def has_dvc_remote(repo: Path) -> bool:
    """Whether the checkout's DVC configuration, at any level (--local too), has a remote."""
    return bool(_dvc(repo, "remote", "list"))


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
