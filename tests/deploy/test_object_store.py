"""The model store on S3, against a real S3 server (moto's, tests/deploy/conftest.py):
`angler promote` and `angler fetch-model` through the CLI, the digest check, a publish
killed mid-upload that fetch refuses and the next promote replaces; and a DVC remote there."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from angler.deploy.model_store import (
    VersionExists,
    VersionIncomplete,
    directory_digest,
    fetch_version,
    publish_version,
)

from helpers.git_repo import git
from helpers.paths import REPO_ROOT

pytestmark = pytest.mark.engines

ANGLER = str(Path(sys.executable).with_name("angler"))
DVC = str(Path(sys.executable).with_name("dvc"))


def angler(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANGLER, *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def checkout(tmp_path) -> Path:
    shutil.copytree(REPO_ROOT / "k8s", tmp_path / "checkout" / "k8s")
    return tmp_path / "checkout"


def keys(store: str) -> set[str]:
    """Every object under the store's prefix, listed by boto3 (not by the code under test)."""
    bucket, prefix = store.removeprefix("s3://").split("/", 1)
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    found = {item["Key"] for page in pages for item in page.get("Contents", [])}
    return {key.removeprefix(prefix + "/") for key in found}


def put_object(store: str, key: str, body: bytes) -> None:
    bucket, prefix = store.removeprefix("s3://").split("/", 1)
    boto3.client("s3").put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=body)


def published_keys(model: Path, version: int) -> set[str]:
    files = (model / str(version)).rglob("*")
    names = {f"{version}/{p.relative_to(model / str(version)).as_posix()}" for p in files}
    return {name for name in names if (model / name).is_file()} | {f"{version}.complete"}


def digest_of(model: Path) -> str:
    return json.loads((model / "model.json").read_text())["digest"]


def promote(checkout: Path, model: Path, store: str, *args: str) -> subprocess.CompletedProcess:
    return angler(
        checkout, "promote", "--env", "staging", "--model", str(model), "--store", store,
        *args, *([] if "--verdict" in args else ["--local-only"]),
    )  # fmt: skip


def fetch_model(checkout: Path, store: str, out: Path, *args: str) -> subprocess.CompletedProcess:
    return angler(
        checkout,
        "fetch-model",
        "--store",
        store,
        "--promotion",
        "k8s/overlays/staging/model.env",
        "--out",
        str(out / "models"),
        "--config",
        str(out / "models.config"),
        *args,
    )


def test_promote_then_fetch_model_through_the_cli(checkout, tmp_path, exported, s3_store):
    model = exported(tmp_path, 1)
    result = promote(checkout, model, s3_store)
    assert result.returncode == 0, result.stderr
    assert keys(s3_store) == published_keys(model, 1)  # and no staging litter
    assert promote(checkout, model, s3_store).returncode == 0  # the same again: nothing to do
    assert keys(s3_store) == published_keys(model, 1)

    out = tmp_path / "serving"
    result = fetch_model(checkout, s3_store, out)
    assert result.returncode == 0, result.stderr
    assert directory_digest(out / "models" / "1") == digest_of(model)
    assert 'version_labels { key: "stable" value: 1 }' in (out / "models.config").read_text()


def test_a_tampered_object_is_refused_by_fetch(checkout, tmp_path, exported, s3_store):
    model = exported(tmp_path, 2)
    assert promote(checkout, model, s3_store).returncode == 0
    put_object(s3_store, "2/variables/variables.index", b"changed in the bucket")
    result = fetch_model(checkout, s3_store, tmp_path / "serving")
    assert result.returncode == 2
    assert "has digest sha256:" in result.stderr and "was promoted" in result.stderr
    assert not (tmp_path / "serving" / "models" / "2").exists()


def test_folder_placeholder_objects_are_not_files(tmp_path, exported, s3_store):
    """Some S3 tools write a key ending in "/" for each folder; a fetch skips them."""
    model = exported(tmp_path, 3)
    publish_version(model / "3", s3_store, 3, digest_of(model))
    for folder in ("3/", "3/variables/", "3/assets.extra/"):
        put_object(s3_store, folder, b"")
    fetched = fetch_version(s3_store, 3, digest_of(model), tmp_path / "serving")
    assert directory_digest(fetched) == digest_of(model)


def test_a_promote_killed_mid_upload_is_refused_then_replaced(
    checkout, tmp_path, exported, s3_store
):
    model = exported(tmp_path, 4, shards=40)
    # A real promote, SIGKILLed as soon as its first object is uploaded: the other uploads
    # are in flight or not started (botocore opens at most 10 connections).
    killer = (
        "import os, signal, sys\n"
        "import s3fs\n"
        "from angler.cli import app\n"
        "upload = s3fs.S3FileSystem._put_file\n"
        "async def upload_then_die(*args, **kwargs):\n"
        "    await upload(*args, **kwargs)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "s3fs.S3FileSystem._put_file = upload_then_die\n"
        "app(sys.argv[1:])\n"
    )
    command = ["promote", "--env", "staging", "--local-only", "--model", str(model)]
    command += ["--store", s3_store]
    died = subprocess.run([sys.executable, "-c", killer, *command], cwd=checkout)
    assert died.returncode == -9
    uploaded = keys(s3_store)
    assert 0 < len(uploaded) < len(published_keys(model, 4)) - 1
    assert "4.complete" not in uploaded

    with pytest.raises(VersionIncomplete, match="no completion marker"):
        fetch_version(s3_store, 4, digest_of(model), tmp_path / "serving")

    result = promote(checkout, model, s3_store)
    assert result.returncode == 0, result.stderr
    assert keys(s3_store) == published_keys(model, 4)
    result = fetch_model(checkout, s3_store, tmp_path / "serving")
    assert result.returncode == 0, result.stderr
    assert directory_digest(tmp_path / "serving" / "models" / "4") == digest_of(model)


def test_leftovers_of_a_crashed_publish_are_replaced(tmp_path, exported, s3_store):
    """What the old staging-and-move publish left behind: some files, folder placeholder
    objects, no marker."""
    model = exported(tmp_path, 5)
    put_object(s3_store, "5/saved_model.pb", b"half a graph")
    put_object(s3_store, "5/variables/", b"")
    with pytest.raises(VersionIncomplete):
        fetch_version(s3_store, 5, digest_of(model), tmp_path / "serving")
    publish_version(model / "5", s3_store, 5, digest_of(model))
    assert keys(s3_store) == published_keys(model, 5)
    fetched = fetch_version(s3_store, 5, digest_of(model), tmp_path / "serving")
    assert directory_digest(fetched) == digest_of(model)


def test_a_published_version_is_never_overwritten(tmp_path, exported, s3_store):
    first, second = exported(tmp_path / "a", 6), exported(tmp_path / "b", 6)
    (second / "6" / "saved_model.pb").write_bytes(b"another model, same number")
    publish_version(first / "6", s3_store, 6, digest_of(first))
    with pytest.raises(VersionExists, match="never overwritten"):
        publish_version(second / "6", s3_store, 6, directory_digest(second / "6"))
    fetched = fetch_version(s3_store, 6, digest_of(first), tmp_path / "serving")
    assert directory_digest(fetched) == digest_of(first)


def dvc(repo: Path, *args: str) -> str:
    result = subprocess.run([DVC, *args], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_a_dvc_remote_on_s3_push_then_pull_into_a_fresh_clone(tmp_path, s3_store, monkeypatch):
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    for config in ("DVC_GLOBAL_CONFIG_DIR", "DVC_SYSTEM_CONFIG_DIR"):  # no shared cache_dir
        monkeypatch.setenv(config, str(tmp_path / config))
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "urls.csv").write_text("url,label\nhttp://example.com/,0\n")
    git(repo, "init", "-q", "-b", "main")
    dvc(repo, "init", "-q")
    dvc(repo, "add", "-q", "data")
    remote = s3_store.rsplit("/", 1)[0] + "/dvc"
    dvc(repo, "remote", "add", "-d", "s3", remote)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data on an S3 remote")
    dvc(repo, "push", "-q")
    assert any(key.startswith("files/md5/") for key in keys(remote))

    git(tmp_path, "clone", "-q", str(repo), "clone")
    clone = tmp_path / "clone"
    dvc(clone, "pull", "-q")
    assert (clone / "data" / "urls.csv").read_text() == (repo / "data" / "urls.csv").read_text()
    assert "up to date" in dvc(clone, "status")
    assert "in sync" in dvc(clone, "status", "--cloud")


def test_the_ledger_on_s3_backs_what_a_verdict_promoted_and_nothing_else(
    checkout, tmp_path, exported, s3_store
):
    """The serving side: fetch-model --env (ANGLER_ENV in every pod) refuses a pin the
    ledger does not back, before fetching anything."""
    unjudged = exported(tmp_path, 1)
    assert promote(checkout, unjudged, s3_store).returncode == 0  # no --verdict
    serving = tmp_path / "serving"
    refused = fetch_model(checkout, s3_store, serving, "--env", "staging")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "angler fetch-model: error: version 1 "
        f"({digest_of(unjudged)}) has no promote verdict in the ledger"
    )
    assert not (serving / "models").exists()
    pins = angler(checkout, "check-pins", "--overlays", "k8s/overlays", "--store", s3_store)
    assert pins.returncode == 1 and "k8s/overlays/staging/model.env: version 1" in pins.stderr

    verdict = tmp_path / "report.json"
    verdict.write_text(json.dumps({"verdict": {"decision": "promote", "reasons": ["better"]}}))
    judged = exported(tmp_path, 2)
    result = promote(checkout, judged, s3_store, "--verdict", str(verdict))
    assert result.returncode == 0, result.stderr
    assert {"ledger/approved/2.json", "ledger/staging/2.json"} <= keys(s3_store)
    result = fetch_model(checkout, s3_store, serving, "--env", "staging")
    assert result.returncode == 0, result.stderr
    assert directory_digest(serving / "models" / "2") == digest_of(judged)
    refused = fetch_model(checkout, s3_store, serving, "--env", "production")
    assert "version 2 was never pinned in production" in refused.stderr
