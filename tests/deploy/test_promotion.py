"""Promotion through git: promote v1, then v2, then `git revert`; the overlay and the model
store agree at every step. Versions are published atomically, marked complete last, and
checked by a digest over a manifest of their files."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from angler.deploy.model_store import (
    DigestMismatch,
    UnsafeModelFolder,
    VersionIncomplete,
    directory_digest,
    fetch_version,
    publish_version,
)
from angler.deploy.serving import MODEL_ENV, read_promotion

from helpers.git_repo import git
from helpers.paths import REPO_ROOT

ANGLER = str(Path(sys.executable).with_name("angler"))


def angler(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANGLER, *args], cwd=repo, capture_output=True, text=True)


def promote(repo: Path, env: str, model: Path, store: Path, *more: str):
    return angler(
        repo, "promote", "--env", env, "--model", str(model), "--store", str(store),
        *more, *([] if "--verdict" in more else ["--local-only"]),
    )  # fmt: skip


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
    marker = store / f"{pin.version}.complete"
    published = marker.is_file() and marker.read_text().strip() == pin.digest
    return pin.version, published and directory_digest(folder) == pin.digest


def test_promote_v1_v2_then_revert_keeps_git_and_store_in_step(repo, tmp_path, exported):
    store = tmp_path / "store"
    for version in (1, 2):
        result = promote(repo, "production", exported(tmp_path, version), store)
        assert result.returncode == 0, result.stderr
        git(repo, "commit", "-qam", f"promote angler {version} to production")
        assert served(repo, store) == (version, True)
        assert git(repo, "diff", "--name-only", "HEAD~1") == "k8s/overlays/production/model.env"
    git(repo, "revert", "--no-edit", "HEAD")
    assert served(repo, store) == (1, True)
    assert sorted(p.name for p in store.iterdir()) == ["1", "1.complete", "2", "2.complete"]


def test_production_takes_only_the_approved_intact_version_staging_serves(repo, tmp_path, exported):
    store = tmp_path / "store"
    verdict = tmp_path / "report.json"
    verdict.write_text(json.dumps({"verdict": {"decision": "promote", "reasons": ["better"]}}))
    for version in (1, 2):
        model = exported(tmp_path, version)
        assert promote(repo, "staging", model, store, "--verdict", str(verdict)).returncode == 0

    def from_staging(version: int) -> subprocess.CompletedProcess:
        return angler(
            repo, "promote", "--env", "production", "--from-env", "staging",
            "--version", str(version), "--store", str(store),
        )  # fmt: skip

    production = repo / "k8s" / "overlays" / "production" / MODEL_ENV
    before = production.read_text()
    refused = from_staging(1)  # staging serves 2 now
    assert refused.returncode == 2 and "pins version 2, not 1" in refused.stderr
    (store / "2" / "variables" / "variables.index").write_bytes(b"tampered")
    refused = from_staging(2)
    assert refused.returncode == 2 and "digest" in refused.stderr
    assert production.read_text() == before  # nothing changed on a refusal
    shutil.rmtree(store / "2")
    shutil.copytree(exported(tmp_path / "again", 2) / "2", store / "2")
    done = from_staging(2)
    assert done.returncode == 0, done.stderr
    assert served(repo, store) == (2, True)
    (store / "ledger" / "approved" / "2.json").unlink()  # as if no verdict had approved it
    refused = from_staging(2)
    assert refused.returncode == 2 and "no promote verdict" in refused.stderr


def test_canary_is_served_beside_stable(repo, tmp_path, exported):
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


def test_a_publish_killed_mid_copy_leaves_no_version(tmp_path, exported):
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
    left = sorted(p.name for p in store.iterdir())  # the staging copy and the dead lock
    assert len(left) == 2 and left[0].startswith(".3-") and left[1] == ".3.publishing"
    assert not (store / "3.complete").exists()
    publish_version(model / "3", str(store), 3, digest)  # takes the dead process's lock over
    assert directory_digest(store / "3") == digest
    assert sorted(p.name for p in store.iterdir()) == ["3", "3.complete"]


def test_two_concurrent_promotes_publish_one_version_and_the_loser_says_so(tmp_path, exported):
    """The fault of issue 28: the loser of two promotes racing for one version ended in
    `OSError: Directory not empty` (3 of 6 trials)."""
    model = exported(tmp_path, 5, shards=40)  # big enough for the two to overlap
    store = tmp_path / "store"
    for trial in range(6):
        target = store / f"trial-{trial}"
        overlays = [tmp_path / f"overlays-{trial}-{i}" for i in (0, 1)]
        for folder in overlays:
            (folder / "staging").mkdir(parents=True)
            (folder / "staging" / "kustomization.yaml").touch()
        racers = [
            subprocess.Popen(
                [ANGLER, "promote", "--env", "staging", "--local-only", "--model", str(model)]
                + ["--store", str(target), "--overlays", str(folder)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for folder in overlays
        ]
        done = [(racer.wait(), racer.stderr.read()) for racer in racers]
        assert all("Traceback" not in err for _, err in done), done
        assert 0 in [code for code, _ in done], done
        for code, err in done:
            if code:
                assert code == 2 and len(err.strip().splitlines()) == 1, err
                assert "being published" in err, err
        assert sorted(p.name for p in target.iterdir()) == ["5", "5.complete"]
        assert directory_digest(target / "5") == (target / "5.complete").read_text().strip()


def test_a_promote_of_a_version_being_published_is_one_line(tmp_path, exported):
    from angler.deploy.model_store import publishing_lock

    model, store = exported(tmp_path, 6), tmp_path / "store"
    (tmp_path / "overlays" / "staging").mkdir(parents=True)
    (tmp_path / "overlays" / "staging" / "kustomization.yaml").touch()
    with publishing_lock(store, 6, str(store / "6")):  # the other promote, mid-publish
        loser = angler(
            tmp_path, "promote", "--env", "staging", "--local-only", "--model", str(model),
            "--store", str(store), "--overlays", str(tmp_path / "overlays"),
        )  # fmt: skip
    assert loser.returncode == 2
    assert loser.stderr.strip() == (
        f"angler promote: error: version 6 is being published to {store}/6 by another promote "
        f"(process {os.getpid()}); run this one again once it is done"
    )
    assert not (tmp_path / "overlays" / "staging" / MODEL_ENV).exists()


def test_a_tampered_model_is_refused_on_publish_and_on_fetch(repo, tmp_path, exported):
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


def test_a_version_is_never_overwritten_with_other_files(tmp_path, exported):
    store = tmp_path / "store"
    first, second = exported(tmp_path / "a", 6), exported(tmp_path / "b", 6)
    (second / "6" / "saved_model.pb").write_bytes(b"another model, same number")
    digest = directory_digest(second / "6")
    publish_version(first / "6", str(store), 6, directory_digest(first / "6"))
    publish_version(first / "6", str(store), 6, directory_digest(first / "6"))  # same: no-op
    with pytest.raises(Exception, match="never overwritten"):
        publish_version(second / "6", str(store), 6, digest)


def test_a_publish_killed_before_its_marker_is_refused_by_fetch_and_retried(tmp_path, exported):
    model = exported(tmp_path, 7)
    digest = json.loads((model / "model.json").read_text())["digest"]
    store = tmp_path / "store"
    killer = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from angler.deploy import model_store\n"
        "def die(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "model_store._write_marker = die  # the folder is in place, the marker not yet\n"
        "model_store.publish_version(Path(sys.argv[1]), sys.argv[2], 7, sys.argv[3])\n"
    )
    died = subprocess.run([sys.executable, "-c", killer, str(model / "7"), str(store), digest])
    assert died.returncode == -9
    assert directory_digest(store / "7") == digest and not (store / "7.complete").exists()
    with pytest.raises(VersionIncomplete, match="no completion marker"):
        fetch_version(str(store), 7, digest, tmp_path / "serving")
    publish_version(model / "7", str(store), 7, digest)
    assert (store / "7.complete").read_text() == digest + "\n"
    fetched = fetch_version(str(store), 7, digest, tmp_path / "serving")
    assert directory_digest(fetched) == digest
    assert sorted(p.name for p in (tmp_path / "serving").iterdir()) == ["7"]


def test_fetch_refuses_a_pin_the_marker_does_not_have(tmp_path, exported):
    model = exported(tmp_path, 8)
    digest = json.loads((model / "model.json").read_text())["digest"]
    publish_version(model / "8", str(tmp_path / "store"), 8, digest)
    with pytest.raises(DigestMismatch, match="was published with digest"):
        fetch_version(str(tmp_path / "store"), 8, "sha256:" + "0" * 64, tmp_path / "serving")


@pytest.mark.parametrize("link", ["file", "folder"])
def test_symlinks_are_refused(tmp_path, exported, link):
    model = exported(tmp_path, 9)
    saved = model / "9"
    digest = directory_digest(saved)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("not part of the model")
    if link == "file":
        (saved / "variables" / "extra").symlink_to(outside / "secret")
    else:
        (saved / "assets").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeModelFolder, match="symlink"):
        directory_digest(saved)
    with pytest.raises(UnsafeModelFolder):
        publish_version(saved, str(tmp_path / "store"), 9, digest)
    assert not (tmp_path / "store" / "9").exists()


@pytest.mark.parametrize(
    "first, second",
    [
        ({"a": b"xy", "b": b""}, {"a": b"x", "b": b"y"}),  # bytes moved between files
        ({"ab": b"c"}, {"a": b"bc"}),  # the boundary between a path and its bytes
        ({"a": b"x\0b\0y"}, {"a": b"x", "b": b"y"}),  # a separator inside the bytes
        ({"a/b": b"x"}, {"a": b"", "b": b"x"}),  # a folder or a name
    ],
)
def test_the_same_bytes_arranged_differently_hash_differently(tmp_path, first, second):
    digests = []
    for name, files in (("first", first), ("second", second)):
        for path, data in files.items():
            (tmp_path / name / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / path).write_bytes(data)
        digests.append(directory_digest(tmp_path / name))
    assert digests[0] != digests[1]
    assert digests[0] == directory_digest(tmp_path / "first")  # and it is deterministic


def test_the_init_container_fetches_the_pinned_version_from_its_environment(
    repo, tmp_path, exported
):
    """`angler fetch-model --out --config` exactly as k8s/base/deployment.yaml runs it: the
    store and the pins from the environment (the ConfigMap's keys), ANGLER_ENV from the
    overlay, no --promotion: the pinned version lands in the pod's volume with its config."""
    store = tmp_path / "store"
    verdict = tmp_path / "report.json"
    verdict.write_text(json.dumps({"verdict": {"decision": "promote", "reasons": ["better"]}}))
    model = exported(tmp_path, 3)
    assert promote(repo, "staging", model, store, "--verdict", str(verdict)).returncode == 0
    pin = read_promotion(repo / "k8s" / "overlays" / "staging" / MODEL_ENV).stable
    deployment = yaml.safe_load((REPO_ROOT / "k8s" / "base" / "deployment.yaml").read_text())
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    volume = tmp_path / "pod"
    args = [str(volume) + arg if arg.startswith("/") else arg for arg in init["command"][1:]]
    command = [ANGLER, *args]  # the pod's /models and /config volumes, under `volume`
    pod_env = {
        "PATH": os.environ["PATH"],
        "ANGLER_ENV": "staging",
        "ANGLER_MODEL_STORE": str(store),
        "ANGLER_MODEL_VERSION": str(pin.version),
        "ANGLER_MODEL_DIGEST": pin.digest,
    }
    result = subprocess.run(command, cwd=tmp_path, env=pod_env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert directory_digest(volume / "models" / "angler" / "3") == pin.digest
    config = (volume / "config" / "models.config").read_text()
    assert 'version_labels { key: "stable" value: 3 }' in config
    assert "--promotion" not in init["command"]  # the pins come from the environment only
