"""Promotion through git: promote v1, then v2, then `git revert`; the overlay and the model
store agree at every step. Versions are published atomically and checked by digest."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from angler.deploy.model_store import (
    DigestMismatch,
    directory_digest,
    fetch_version,
    publish_version,
)
from angler.deploy.serving import MODEL_ENV, read_promotion

from helpers.git_repo import git
from helpers.paths import REPO_ROOT

ANGLER = str(Path(sys.executable).with_name("angler"))


def exported(root: Path, version: int) -> Path:
    """An export stage's output folder: <version>/ and model.json with its digest."""
    folder = root / f"export-{version}"
    saved = folder / str(version)
    (saved / "variables").mkdir(parents=True)
    (saved / "saved_model.pb").write_bytes(f"graph of version {version}".encode() * 1000)
    (saved / "variables" / "variables.index").write_bytes(bytes(range(256)) * version)
    description = {"name": "angler", "version": version, "digest": directory_digest(saved)}
    (folder / "model.json").write_text(json.dumps(description))
    return folder


def angler(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANGLER, *args], cwd=repo, capture_output=True, text=True)


def promote(repo: Path, env: str, model: Path, store: Path, *more: str):
    return angler(
        repo, "promote", "--env", env, "--model", str(model), "--store", str(store), *more
    )


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "k8s", root / "k8s")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "k8s")
    return root


def served(repo: Path, store: Path, env: str = "production") -> tuple[int, bool]:
    """The pinned version, and whether the store has it with the pinned digest."""
    pin = read_promotion(repo / "k8s" / "overlays" / env / MODEL_ENV).stable
    folder = store / str(pin.version)
    return pin.version, folder.is_dir() and directory_digest(folder) == pin.digest


def test_promote_v1_v2_then_revert_keeps_git_and_store_in_step(repo, tmp_path):
    store = tmp_path / "store"
    for version in (1, 2):
        result = promote(repo, "production", exported(tmp_path, version), store)
        assert result.returncode == 0, result.stderr
        git(repo, "commit", "-qam", f"promote angler {version} to production")
        assert served(repo, store) == (version, True)
        assert git(repo, "diff", "--name-only", "HEAD~1") == "k8s/overlays/production/model.env"
    git(repo, "revert", "--no-edit", "HEAD")
    assert served(repo, store) == (1, True)
    assert sorted(p.name for p in store.iterdir()) == ["1", "2"]  # versions are never deleted


def test_canary_is_served_beside_stable(repo, tmp_path):
    store = tmp_path / "store"
    promote(repo, "staging", exported(tmp_path, 1), store)
    promote(repo, "staging", exported(tmp_path, 2), store, "--canary")
    promotion = read_promotion(repo / "k8s" / "overlays" / "staging" / MODEL_ENV)
    assert (promotion.stable.version, promotion.canary.version) == (1, 2)
    out = tmp_path / "serving"
    result = angler(
        repo,
        "fetch-model",
        "--store",
        str(store),
        "--promotion",
        "k8s/overlays/staging/model.env",
        "--out",
        str(out / "models"),
        "--config",
        str(out / "models.config"),
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "models").iterdir()) == ["1", "2"]
    assert 'version_labels { key: "canary" value: 2 }' in (out / "models.config").read_text()


def test_a_publish_killed_mid_copy_leaves_no_version(tmp_path):
    model = exported(tmp_path, 3)
    store = tmp_path / "store"
    # Copy one file, then die the hardest way: SIGKILL, no cleanup handlers.
    killer = (
        "import os, shutil, signal, sys\n"
        "from pathlib import Path\n"
        "from angler.deploy.model_store import publish_version\n"
        "def die(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "shutil.copystat = die  # copy2 calls it once a file's bytes are copied\n"
        "publish_version(Path(sys.argv[1]), sys.argv[2], 3, sys.argv[3])\n"
    )
    digest = json.loads((model / "model.json").read_text())["digest"]
    died = subprocess.run([sys.executable, "-c", killer, str(model / "3"), str(store), digest])
    assert died.returncode == -9
    assert not (store / "3").exists()
    assert [p.name for p in store.iterdir()][0].startswith(".3-")  # the staging folder only
    publish_version(model / "3", str(store), 3, digest)
    assert directory_digest(store / "3") == digest


def test_a_tampered_model_is_refused_on_publish_and_on_fetch(repo, tmp_path):
    model = exported(tmp_path, 4)
    (model / "4" / "saved_model.pb").write_bytes(b"tampered")
    result = promote(repo, "staging", model, tmp_path / "store")
    assert result.returncode == 2
    assert "has digest sha256:" in result.stderr and "was promoted" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    good = exported(tmp_path / "good", 5)
    digest = json.loads((good / "model.json").read_text())["digest"]
    publish_version(good / "5", str(tmp_path / "store"), 5, digest)
    (tmp_path / "store" / "5" / "saved_model.pb").write_bytes(b"changed in the store")
    with pytest.raises(DigestMismatch):
        fetch_version(str(tmp_path / "store"), 5, digest, tmp_path / "serving")
    assert not (tmp_path / "serving" / "5").exists()


def test_a_version_is_never_overwritten_with_other_files(tmp_path):
    store = tmp_path / "store"
    first, second = exported(tmp_path / "a", 6), exported(tmp_path / "b", 6)
    (second / "6" / "saved_model.pb").write_bytes(b"another model, same number")
    digest = directory_digest(second / "6")
    publish_version(first / "6", str(store), 6, directory_digest(first / "6"))
    publish_version(first / "6", str(store), 6, directory_digest(first / "6"))  # same: no-op
    with pytest.raises(Exception, match="never overwritten"):
        publish_version(second / "6", str(store), 6, digest)
