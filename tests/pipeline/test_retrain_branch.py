"""Retraining's git side: the run's commit is pinned (the checkout leaves last week's branch),
the retrained state is pushed on top of exactly that commit, and the checkout stays there;
the pull request says whether the run had a DVC remote by the checkout's own DVC
configuration."""

import subprocess
import sys
from pathlib import Path

import pytest

from angler.errors import AnglerError
from angler.review.retrain_pr import has_dvc_remote, pin_commit, push_retrain_branch

from helpers.git_repo import git

DVC = Path(sys.executable).with_name("dvc")


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A clone of a bare origin whose main has a pipeline state."""
    git(tmp_path, "init", "-q", "--bare", "-b", "main", "origin.git")
    repo = tmp_path / "angler"
    git(tmp_path, "clone", "-q", "origin.git", "angler")
    (repo / "dvc.lock").write_text("schema: '2.0'\n")
    for folder in ("metrics", "plots", "reports"):
        (repo / folder).mkdir()
        (repo / folder / "train.json").write_text("{}\n")
    (repo / "params.yaml").write_text("train: {epochs: 3}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main")
    git(repo, "push", "-q", "origin", "HEAD:main")
    return repo


def test_the_retrained_state_is_pushed_on_the_pinned_commit_and_the_checkout_stays(checkout):
    git(checkout, "switch", "-q", "-c", "retrain/2026-11-23")  # where last week's run left it
    commit = pin_commit(checkout)
    assert commit == git(checkout, "rev-parse", "origin/main") == git(checkout, "rev-parse", "HEAD")
    (checkout / "dvc.lock").write_text("schema: '2.0'\nretrained: true\n")
    assert push_retrain_branch(checkout, "retrain/2026-11-30", commit)
    assert git(checkout, "rev-parse", "HEAD") == commit  # not on the branch it pushed
    assert git(checkout, "rev-parse", "origin/retrain/2026-11-30~1") == commit
    assert "retrained" in git(checkout, "show", "origin/retrain/2026-11-30:dvc.lock")
    assert "retrained" in (checkout / "dvc.lock").read_text()  # what dvc status compares

    # Next run: the pipeline state left behind is dropped, the checkout is on main again.
    assert pin_commit(checkout) == commit
    assert "retrained" not in (checkout / "dvc.lock").read_text()
    assert not push_retrain_branch(checkout, "retrain/2026-12-07", commit)  # nothing changed


def test_a_moved_checkout_or_an_edit_outside_the_state_is_refused(checkout):
    commit = pin_commit(checkout)
    (checkout / "params.yaml").write_text("train: {epochs: 30}\n")
    with pytest.raises(AnglerError, match="changes outside the pipeline state"):
        pin_commit(checkout)
    git(checkout, "commit", "-qam", "someone else's commit")
    with pytest.raises(AnglerError, match="the checkout moved"):
        push_retrain_branch(checkout, "retrain/2026-11-30", commit)


def test_a_revision_is_pinned_as_given(checkout):
    first = git(checkout, "rev-parse", "HEAD")
    git(checkout, "commit", "-q", "--allow-empty", "-m", "later")
    assert pin_commit(checkout, first) == first == git(checkout, "rev-parse", "HEAD")


@pytest.mark.slow  # three DVC commands
def test_the_dvc_remote_is_read_from_the_checkouts_configuration_local_too(tmp_path):
    subprocess.run([str(DVC), "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    assert not has_dvc_remote(tmp_path)
    add = [str(DVC), "remote", "add", "--local", "orchestrator", str(tmp_path / "remote")]
    subprocess.run(add, cwd=tmp_path, check=True)
    assert has_dvc_remote(tmp_path)
