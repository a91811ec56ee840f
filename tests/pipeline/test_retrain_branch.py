"""Retraining's git side: a run checks out its commit in a worktree of its own, sharing the
repository's DVC cache; the retrained state becomes a branch on top of exactly that commit,
pushed only to a remote that configuration names; the checkout the orchestrator was pointed
at (branch, HEAD, edits) is never touched. The pull request says whether the run had a DVC
remote by the checkout's own DVC configuration."""

import subprocess
import sys
from pathlib import Path

import pytest

from angler.errors import AnglerError
from angler.review.retrain_pr import (
    has_dvc_remote,
    keep_retrain_branch,
    pin_commit,
    remove_run_checkout,
    run_checkout,
)

from helpers.git_repo import checkout_state, git

DVC = Path(sys.executable).with_name("dvc")


@pytest.fixture
def repo(tmp_path) -> Path:
    """A clone of a bare origin whose main has a pipeline state, and a user at work in it:
    on a branch of their own, with an edit not committed and traffic collected."""
    git(tmp_path, "init", "-q", "--bare", "-b", "main", "origin.git")
    repo = tmp_path / "angler"
    git(tmp_path, "clone", "-q", "origin.git", "angler")
    subprocess.run([str(DVC), "init", "-q"], cwd=repo, check=True)
    add = [str(DVC), "remote", "add", "--default", "local", ".dvc-remote"]  # as .dvc/config
    subprocess.run(add, cwd=repo, check=True)
    (repo / "dvc.lock").write_text("schema: '2.0'\n")
    for folder in ("metrics", "plots", "reports", "traffic"):
        (repo / folder).mkdir()
        (repo / folder / "README.md").write_text("kept\n")
    (repo / "params.yaml").write_text("train: {epochs: 3}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main")
    git(repo, "push", "-q", "origin", "HEAD:main")
    git(repo, "switch", "-q", "-c", "my-experiment")
    (repo / "params.yaml").write_text("train: {epochs: 30}\n")
    (repo / "traffic" / "today.csv").write_text("url,score\nhttp://a.example/,0.1\n")
    return repo


def test_a_run_works_in_its_own_worktree_and_keeps_its_branch_locally(repo, tmp_path):
    before = checkout_state(repo)
    checkout = run_checkout(repo, tmp_path, "manual__2026-12-06T09:30:00+00:00")
    assert checkout == tmp_path / "angler.manual__2026-12-06T09-30-00-00-00"
    commit = pin_commit(repo, checkout)
    assert commit == git(repo, "rev-parse", "main") == git(checkout, "rev-parse", "HEAD")
    cache = subprocess.run([str(DVC), "cache", "dir"], cwd=checkout, capture_output=True, text=True)
    assert Path(cache.stdout.strip()) == repo / ".dvc" / "cache"  # what main built is reused
    config = subprocess.run(
        [str(DVC), "config", "-l"], cwd=checkout, capture_output=True, text=True
    )
    assert f"remote.local.url={repo / '.dvc-remote'}\n" in config.stdout  # not the worktree's
    assert (checkout / "traffic" / "today.csv").read_text() == (
        repo / "traffic" / "today.csv"
    ).read_text()

    (checkout / "dvc.lock").write_text("schema: '2.0'\nretrained: true\n")
    where = keep_retrain_branch(checkout, "retrain/2026-12-06", commit)
    assert where == f"retrain/2026-12-06 in {repo / '.git'}"
    assert git(repo, "rev-parse", "retrain/2026-12-06~1") == commit
    assert "retrained" in git(repo, "show", "retrain/2026-12-06:dvc.lock")
    assert git(repo, "ls-remote", "origin", "refs/heads/retrain/*") == ""  # nothing pushed
    remove_run_checkout(repo, checkout)
    assert not checkout.exists()
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert checkout_state(repo) == before  # the user's branch, HEAD and edits


def test_a_configured_remote_gets_the_branch_and_gives_the_commit(repo, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    git(tmp_path, "clone", "-q", "origin.git", "elsewhere")
    git(elsewhere, "commit", "-q", "--allow-empty", "-m", "merged meanwhile")
    git(elsewhere, "push", "-q", "origin", "main")
    before = checkout_state(repo)
    checkout = run_checkout(repo, tmp_path, "scheduled__2026-12-07")
    commit = pin_commit(repo, checkout, remote="origin")
    assert commit == git(elsewhere, "rev-parse", "HEAD") != git(repo, "rev-parse", "main")
    (checkout / "reports" / "train.json").write_text("{}\n")
    assert keep_retrain_branch(checkout, "retrain/2026-12-07", commit, "origin") == (
        "retrain/2026-12-07 on origin"
    )
    assert git(tmp_path / "origin.git", "rev-parse", "retrain/2026-12-07~1") == commit
    assert checkout_state(repo) == before


def test_nothing_changed_keeps_no_branch_and_a_moved_checkout_is_refused(repo, tmp_path):
    checkout = run_checkout(repo, tmp_path, "run")
    commit = pin_commit(repo, checkout)
    assert keep_retrain_branch(checkout, "retrain/2026-12-08", commit) is None
    assert git(repo, "branch", "--list", "retrain/*") == ""
    git(
        checkout,
        "-c",
        "user.name=x",
        "-c",
        "user.email=x@x",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    with pytest.raises(AnglerError, match="moved from its commit"):
        keep_retrain_branch(checkout, "retrain/2026-12-08", commit)


def test_a_revision_is_pinned_as_given_and_a_retried_pin_starts_again(repo, tmp_path):
    first = git(repo, "rev-parse", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    checkout = run_checkout(repo, tmp_path, "run")
    assert pin_commit(repo, checkout, first) == first
    (checkout / "reports" / "half-written.json").write_text("{")
    assert pin_commit(repo, checkout, "my-experiment") == git(repo, "rev-parse", "HEAD")
    assert not (checkout / "reports" / "half-written.json").exists()
    with pytest.raises(AnglerError, match="no commit no-such-branch in "):
        pin_commit(repo, run_checkout(repo, tmp_path, "other"), "no-such-branch")


@pytest.mark.slow  # three DVC commands
def test_the_dvc_remote_is_read_from_the_checkouts_configuration_local_too(tmp_path):
    subprocess.run([str(DVC), "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    assert not has_dvc_remote(tmp_path)
    add = [str(DVC), "remote", "add", "--local", "orchestrator", str(tmp_path / "remote")]
    subprocess.run(add, cwd=tmp_path, check=True)
    assert has_dvc_remote(tmp_path)
