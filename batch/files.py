"""Where batch files live in artifact storage, and the few ways they get there and go.

Keys are made here, never from a client's filename: ``batch/inputs/<input>/...`` and
``batch/jobs/<job>/...``, each with a random part, so a retried write never meets an earlier file
and the registry's sweep of ``models/`` never sees them. Files are written locally first (next to
the artifacts, so keeping one is a rename on disk storage) and saved whole.
"""

import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.files import File

from registry.artifacts import artifact_delete, artifact_local_path, artifact_save, artifact_storage, file_sha256

logger = logging.getLogger(__name__)
ROOT = "batch"


def input_key(input_uuid: uuid.UUID, extension: str) -> str:
    return f"{ROOT}/inputs/{input_uuid}/{uuid.uuid4().hex}.{extension}"


def job_folder(job_uuid: uuid.UUID) -> str:
    return f"{ROOT}/jobs/{job_uuid}"


def part_key(job_uuid: uuid.UUID, index: int, kind: str, extension: str) -> str:
    # Named by the chunk index, with a random tail: two deliveries of one chunk never share a file.
    return f"{job_folder(job_uuid)}/parts/{index:06d}-{kind}-{uuid.uuid4().hex[:12]}.{extension}"


def result_key(job_uuid: uuid.UUID, kind: str, extension: str) -> str:
    return f"{job_folder(job_uuid)}/{kind}-{uuid.uuid4().hex[:12]}.{extension}"


class _LocalFile(File):
    """A finished local file: disk storage moves it into place instead of copying it."""

    def temporary_file_path(self) -> str:
        return self.name


def save_file(key: str, path: Path, sha256: str | None = None) -> str:
    """Keep ``path`` under ``key``; returns its sha256 (hashed here unless its writer hashed it as it
    wrote). The local file is gone afterwards."""
    digest = sha256 or file_sha256(path)
    with path.open("rb") as handle:
        artifact_save(key, _LocalFile(handle, name=str(path)))
    return digest


def local_copy(key: str, sha256: str) -> Path:
    """The stored file as a local path: the file itself on disk storage, a cached download otherwise."""
    return artifact_local_path(key, sha256)


def release_copy(path: Path) -> None:
    """Drop a downloaded copy once used (object storage); a file of disk storage is the stored file."""
    cache = Path(settings.ARTIFACT_CACHE_DIR).resolve()
    if path.resolve().is_relative_to(cache):
        path.unlink(missing_ok=True)


def discard(key: str) -> None:
    """Best effort: what stays behind is found by retention (``batch.jobs_expire``)."""
    if not key:
        return
    try:
        artifact_delete(key)
    except Exception:
        logger.warning("could not delete %s; retention will", key, exc_info=True)


def keys_under(folder: str) -> Iterator[str]:
    storage = artifact_storage()
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for name in folders:
        yield from keys_under(f"{folder}/{name}")


def discard_folder(folder: str, keep: tuple[str, ...] = ()) -> int:
    """Delete every file under ``folder`` except ``keep``; best effort, returns how many went."""
    removed = 0
    try:
        for key in list(keys_under(folder)):
            if key not in keep:
                discard(key)
                removed += 1
    except Exception:
        logger.warning("could not list %s; retention will clean it", folder, exc_info=True)
    return removed


def _scratch_folder() -> Path:
    return Path(settings.FILE_UPLOAD_TEMP_DIR) / "batch"


@contextmanager
def scratch(suffix: str) -> Iterator[Path]:
    """A local file for one task's work, removed afterwards whatever happens short of a killed process."""
    folder = _scratch_folder()
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def scratch_sweep(before: datetime) -> int:
    """Local work files a killed worker left on this machine, older than ``before``."""
    removed = 0
    for path in _scratch_folder().glob("tmp*"):
        try:
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < before:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another sweep or its own task got there first
            continue
    return removed
