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

import contextlib
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


class VersionBusy(AnglerError):
    """Another promote is publishing the same version right now."""


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
    fs, root = store_filesystem(store)
    url = f"{store.rstrip('/')}/{version}"
    if not isinstance(fs, LocalFileSystem):
        _publish(fs, root, source, version, digest, url)
        return url
    with publishing_lock(Path(root), version, url):
        _publish(fs, root, source, version, digest, url)
    return url


def _publish(fs, root: str, source: Path, version: int, digest: str, url: str) -> None:
    target, marker = _version_paths(root, version)
    published = _published_digest(fs, marker)
    if published == digest:
        return
    if published is not None:
        raise VersionExists(f"{url} exists with another digest; versions are never overwritten")
    if fs.exists(target):  # the leftovers of a publish that did not finish
        fs.rm(target, recursive=True)
    if isinstance(fs, LocalFileSystem):
        for staging in Path(root).glob(f".{version}-*"):  # a killed publish's copy (we hold
            shutil.rmtree(staging, ignore_errors=True)  # the version's lock)
        publish_atomically(source, Path(root), version)
    else:
        files = _files(source)
        fs.put([str(file) for _, file in files], [f"{target}/{name}" for name, _ in files])
    _write_marker(fs, marker, digest)


@contextlib.contextmanager
def publishing_lock(store: Path, version: int, url: str):
    """`<store>/.<version>.publishing`, created exclusively, holding this process id: two
    promotes of one version on a shared folder take turns, the second told so. A lock whose
    process is gone (a killed promote) is taken over. Object stores have no such lock; the
    promote workflows run one at a time (their concurrency group)."""
    store.mkdir(parents=True, exist_ok=True)
    lock = store / f".{version}.publishing"
    for _ in range(2):
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            holder = lock.read_text(encoding="utf-8").strip() if lock.exists() else ""
            if _process_alive(holder):
                raise VersionBusy(
                    f"version {version} is being published to {url} by another promote "
                    f"(process {holder}); run this one again once it is done"
                ) from None
            lock.unlink(missing_ok=True)
    else:
        raise VersionBusy(f"version {version}: cannot take {lock}")
    try:
        os.write(descriptor, str(os.getpid()).encode())
        os.close(descriptor)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _process_alive(pid: str) -> bool:
    if not pid.isascii() or not pid.isdigit():
        return pid == ""  # being written by a process that just created it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fetch_version(store: str, version: int, digest: str, dest: Path) -> Path:
    """Copy `<store>/<version>/` to `dest/<version>/`, refused unless it is published and
    its digest matches."""
    fs, root = store_filesystem(store)
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
    write_object(fs, marker, (digest + "\n").encode())


def write_object(fs, path: str, data: bytes) -> None:
    """Write a small file whole or not at all."""
    if isinstance(fs, LocalFileSystem):
        # A rename, so a crash never leaves a half-written marker that blocks the version.
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        partial = Path(path).with_name(f".{Path(path).name}-{uuid.uuid4().hex}")
        partial.write_bytes(data)
        os.replace(partial, path)
    else:
        fs.pipe_file(path, data)  # an object PUT is all or nothing


def _version_paths(root: str, version: int) -> tuple[str, str]:
    folder = f"{root.rstrip('/')}/{version}"
    return folder, folder + MARKER_SUFFIX


def store_filesystem(store: str):
    fs, root = fsspec.core.url_to_fs(store)
    fs.invalidate_cache()  # fsspec reuses instances: another process may have written since
    return fs, root


def _raise(error: OSError) -> None:
    raise error
