"""The model store: promoted SavedModel versions as `<store>/<version>/`, the layout TF
Serving reads, each with a SHA-256 digest over its files.

A version is published once and never overwritten. On a local or mounted filesystem it is
copied into a hidden staging folder and renamed into place, so readers never see half a
version; on an object store (any fsspec URL: s3://, gs://) it is moved from a staging
prefix, and the digest check when it is fetched is the guarantee.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from angler.errors import AnglerError


class VersionExists(AnglerError, FileExistsError):
    """A model version folder is never written twice."""


class DigestMismatch(AnglerError):
    """A model version's files do not have the digest that was promoted."""


class VersionMissing(AnglerError):
    """The model store does not have the version asked for."""


def directory_digest(path: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as data:
            for block in iter(lambda: data.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()


def publish_atomically(source: Path, store: Path, version: int) -> Path:
    """Copy `source` to `store/<version>` so readers never see a half-written version:
    copy into a hidden temporary folder in the store, then rename it into place."""
    target = store / str(version)
    if target.exists():
        raise VersionExists(f"{target} already exists; model versions are never overwritten")
    store.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=store))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def publish_version(source: Path, store: str, version: int, digest: str) -> str:
    """Put a SavedModel folder into the store as `<store>/<version>/`; return its URL.

    The folder must have the pinned digest. Publishing a version that is already there with
    the same digest does nothing; with another digest it is refused.
    """
    check_digest(source, digest)
    fs, root = _filesystem(store)
    target = f"{root.rstrip('/')}/{version}"
    if fs.exists(target):
        existing = _fetch_to_temp(fs, target)
        try:
            if directory_digest(existing) != digest:
                raise VersionExists(
                    f"{store}/{version} exists with another digest; versions are never overwritten"
                )
        finally:
            shutil.rmtree(existing.parent, ignore_errors=True)
        return f"{store.rstrip('/')}/{version}"
    if isinstance(fs, LocalFileSystem):
        publish_atomically(source, Path(root), version)
    else:
        staging = f"{root.rstrip('/')}/.staging/{version}-{uuid.uuid4().hex}"
        fs.put(str(source), staging, recursive=True)
        fs.mv(staging, target, recursive=True)
    return f"{store.rstrip('/')}/{version}"


def fetch_version(store: str, version: int, digest: str, dest: Path) -> Path:
    """Copy `<store>/<version>/` to `dest/<version>/`, refused unless its digest matches."""
    fs, root = _filesystem(store)
    source = f"{root.rstrip('/')}/{version}"
    if not fs.exists(source):
        raise VersionMissing(f"{store}/{version} is not in the model store")
    fetched = _fetch_to_temp(fs, source, dest)
    try:
        check_digest(fetched, digest)
        target = dest / str(version)
        if target.exists():
            shutil.rmtree(target)
        fetched.rename(target)
    finally:
        shutil.rmtree(fetched.parent, ignore_errors=True)
    return target


def check_digest(folder: Path, expected: str) -> None:
    actual = directory_digest(folder)
    if actual != expected:
        raise DigestMismatch(f"{folder} has digest {actual}, but {expected} was promoted")


def _fetch_to_temp(fs, source: str, near: Path | None = None) -> Path:
    if near is not None:
        near.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".fetch-", dir=near))
    fs.get(source.rstrip("/") + "/", str(scratch / "version"), recursive=True)
    return scratch / "version"


def _filesystem(store: str):
    return fsspec.core.url_to_fs(store)
