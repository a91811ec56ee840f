"""The corpus folder is ingest's dependency: a file added to it, changed or removed reruns
ingest and what follows. Played with DVC itself on a copy of the repository: the ingest
stage is recorded with `dvc commit` (its outputs stand in empty; nothing here runs Spark),
then the corpus changes and `dvc status` must name ingest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.git_repo import BIN, copy_repo, pipeline_env
from helpers.paths import FIXTURE_CORPUS

pytestmark = pytest.mark.slow


def dvc(repo: Path, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "dvc"), *args], cwd=repo, env=pipeline_env(repo), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Path]:
    """A repository copy whose corpus is a copy of the committed fixture corpus, with the
    ingest stage recorded in dvc.lock as if it had just run."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    repo = copy_repo(tmp_path / "repo", **{"data.corpus": str(corpus)})
    (repo / "data" / "ingested").mkdir(parents=True)
    (repo / "data" / "ingested" / "part-00000.parquet").write_bytes(b"")
    (repo / "data" / "quarantine").mkdir()
    (repo / "data" / "quarantine" / "ingest.csv").write_text("file,source,reason,raw_url\n")
    (repo / "reports" / "ingest.json").write_text("{}")
    dvc(repo, "commit", "--force", "ingest")
    assert "ingest" not in dvc(repo, "status", "ingest")
    return repo, corpus


def test_a_file_added_to_the_corpus_reruns_ingest(recorded):
    repo, corpus = recorded
    (corpus / "benign" / "new-list.txt").write_text("https://example.org/a\n")
    status = dvc(repo, "status", "ingest")
    assert "ingest:" in status and str(corpus) in status


def test_a_changed_or_removed_corpus_file_reruns_ingest(recorded):
    repo, corpus = recorded
    listed = corpus / "benign" / "popular-sites.txt"
    listed.write_text(listed.read_text() + "https://example.org/b\n")
    assert "ingest:" in dvc(repo, "status", "ingest")
    dvc(repo, "commit", "--force", "ingest")
    assert "ingest:" not in dvc(repo, "status", "ingest")
    listed.unlink()
    assert "ingest:" in dvc(repo, "status", "ingest")
