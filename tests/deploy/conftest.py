"""Deploy fixtures: an export stage's output folder, and a real S3 server (moto's) on
127.0.0.1 with a fresh bucket for each test."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from angler.deploy.model_store import directory_digest

from helpers.engines import free_port, running

MOTO_SERVER = str(Path(sys.executable).with_name("moto_server"))


def _exported(root: Path, version: int, shards: int = 1) -> Path:
    """<root>/export-<version>/: the version folder and model.json with its digest."""
    folder = root / f"export-{version}"
    saved = folder / str(version)
    (saved / "variables").mkdir(parents=True)
    (saved / "assets.extra").mkdir()
    (saved / "saved_model.pb").write_bytes(f"graph of version {version}".encode() * 1000)
    for shard in range(shards):
        name = f"variables.data-{shard:05d}-of-{shards:05d}"
        (saved / "variables" / name).write_bytes(bytes(range(256)) * (version + shard))
    (saved / "variables" / "variables.index").write_bytes(bytes(range(256)) * version)
    (saved / "assets.extra" / "tf_serving_warmup_requests").write_bytes(b"warmup" * version)
    description = {"name": "angler", "version": version, "digest": directory_digest(saved)}
    (folder / "model.json").write_text(json.dumps(description))
    return folder


@pytest.fixture
def exported() -> Callable[..., Path]:
    """exported(root, version, shards=1): a fake SavedModel laid out like `angler export`."""
    return _exported


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, str]]:
    """moto's S3 server for the session: the environment that points AWS clients at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)], url + "/moto-api/"):
        yield {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            # Nothing from the developer's ~/.aws.
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        }


@pytest.fixture
def s3_store(s3_server, monkeypatch) -> str:
    """`s3://<a new bucket>/angler`, with this test's environment (and the processes it
    starts) pointed at the server."""
    import boto3

    for key, value in s3_server.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"angler-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/angler"
