"""The model store: promoted SavedModel versions as `<store>/<version>/`, the layout TF
Serving reads, each with a SHA-256 digest over a manifest of its files.

A version is published once and never overwritten, and it is published only once its
completion marker `<store>/<version>.complete`, holding the digest, is there. The marker is
written last; fetch refuses a version without it; a publish that finds a version folder
without a marker takes it for the leftovers of a crashed publish, deletes it and starts
again. On a local or mounted filesystem the folder is also copied into a hidden staging
folder and renamed into place; on an object store (any fsspec URL: s3://, gs://) the files
are uploaded straight to `<store>/<version>/`, as object stores cannot rename a folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import tempfile
import uuid
from pathlib import Path, PurePosixPath

import fsspec
from fsspec.implementations.local import LocalFileSystem

from angler.errors import AnglerError

MARKER_SUFFIX = ".complete"


class VersionExists(AnglerError, FileExistsError):
    """A model version folder is never written twice."""


class DigestMismatch(AnglerError):
    """A model version's files do not have the digest that was promoted."""


class VersionMissing(AnglerError):
    """The model store does not have the version asked for."""


class VersionIncomplete(AnglerError):
    """A version folder without its completion marker: a publish that did not finish."""


class UnsafeModelFolder(AnglerError):
    """A model folder that is missing or holds a symlink or something else that is not a
    plain file or folder: a digest covers plain files only."""


def directory_digest(path: Path) -> str:
    """SHA-256 of the folder's manifest: one JSON line `[path, size, sha256]` per file, in
    sorted path order, so two folders share a digest only if they hold the same files."""
    lines = (json.dumps([name, size, sha256]) + "\n" for name, size, sha256 in manifest(path))
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()


def manifest(path: Path) -> list[tuple[str, int, str]]:
    """(relative POSIX path, size, SHA-256) of every file under `path`, sorted by path."""
    return [(name, file.stat().st_size, _file_sha256(file)) for name, file in _files(path)]


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
    target, marker = _version_paths(root, version)
    url = f"{store.rstrip('/')}/{version}"
    published = _published_digest(fs, marker)
    if published == digest:
        return url
    if published is not None:
        raise VersionExists(f"{url} exists with another digest; versions are never overwritten")
    if fs.exists(target):
        fs.rm(target, recursive=True)
    if isinstance(fs, LocalFileSystem):
        publish_atomically(source, Path(root), version)
    else:
        files = _files(source)
        fs.put([str(file) for _, file in files], [f"{target}/{name}" for name, _ in files])
    _write_marker(fs, marker, digest)
    return url


def fetch_version(store: str, version: int, digest: str, dest: Path) -> Path:
    """Copy `<store>/<version>/` to `dest/<version>/`, refused unless it is published and
    its digest matches."""
    fs, root = _filesystem(store)
    source, marker = _version_paths(root, version)
    url = f"{store.rstrip('/')}/{version}"
    published = _published_digest(fs, marker)
    if published is None:
        if fs.exists(source):
            raise VersionIncomplete(
                f"{url} has no completion marker: its publish did not finish; promote it again"
            )
        raise VersionMissing(f"{url} is not in the model store")
    if published != digest:
        raise DigestMismatch(f"{url} was published with digest {published}, not {digest}")
    dest.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".fetch-", dir=dest))
    try:
        fetched = _download(fs, source, scratch / "version")
        check_digest(fetched, digest)
        target = dest / str(version)
        if target.exists():
            shutil.rmtree(target)
        fetched.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def check_digest(folder: Path, expected: str) -> None:
    actual = directory_digest(folder)
    if actual != expected:
        raise DigestMismatch(f"{folder} has digest {actual}, but {expected} was promoted")


def _files(folder: Path) -> list[tuple[str, Path]]:
    """Every file under `folder` by its relative POSIX path, sorted; symlinks refused."""
    if folder.is_symlink() or not folder.is_dir():
        raise UnsafeModelFolder(f"{folder} is not a folder (or is a symlink)")
    found = []
    for parent, folders, files in os.walk(folder, onerror=_raise):
        for name in folders + files:
            entry = Path(parent, name)
            if entry.is_symlink() or not (entry.is_dir() or entry.is_file()):
                raise UnsafeModelFolder(f"{entry} is a symlink or not a plain file or folder")
        found += [Path(parent, name) for name in files]
    return sorted((file.relative_to(folder).as_posix(), file) for file in found)


def _file_sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(fs, source: str, folder: Path) -> Path:
    # Keys ending in "/" are the folder placeholders some S3 tools write: not files.
    remote = [path for path in fs.find(source, detail=False) if not path.endswith("/")]
    local = []
    for path in remote:
        name = posixpath.relpath(path, source)
        if ".." in PurePosixPath(name).parts:
            raise UnsafeModelFolder(f"{path} points outside its version folder")
        local.append(folder / name)
        local[-1].parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    fs.get(remote, [str(path) for path in local])
    return folder


def _published_digest(fs, marker: str) -> str | None:
    try:
        return fs.cat_file(marker).decode().strip()
    except FileNotFoundError:
        return None


def _write_marker(fs, marker: str, digest: str) -> None:
    data = (digest + "\n").encode()
    if isinstance(fs, LocalFileSystem):
        # A rename, so a crash never leaves a half-written marker that blocks the version.
        partial = Path(marker).with_name(f".{Path(marker).name}-{uuid.uuid4().hex}")
        partial.write_bytes(data)
        os.replace(partial, marker)
    else:
        fs.pipe_file(marker, data)  # an object PUT is all or nothing


def _version_paths(root: str, version: int) -> tuple[str, str]:
    folder = f"{root.rstrip('/')}/{version}"
    return folder, folder + MARKER_SUFFIX


def _filesystem(store: str):
    fs, root = fsspec.core.url_to_fs(store)
    fs.invalidate_cache()  # fsspec reuses instances: another process may have written since
    return fs, root


def _raise(error: OSError) -> None:
    raise error
