"""Retraining's git side: the pull request says whether the run had a DVC remote by the
checkout's own DVC configuration."""

import subprocess
import sys
from pathlib import Path

import pytest

from angler.review.retrain_pr import has_dvc_remote

DVC = Path(sys.executable).with_name("dvc")


@pytest.mark.slow  # three DVC commands
def test_the_dvc_remote_is_read_from_the_checkouts_configuration_local_too(tmp_path):
    subprocess.run([str(DVC), "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    assert not has_dvc_remote(tmp_path)
    add = [str(DVC), "remote", "add", "--local", "orchestrator", str(tmp_path / "remote")]
    subprocess.run(add, cwd=tmp_path, check=True)
    assert has_dvc_remote(tmp_path)
