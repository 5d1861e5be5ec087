"""Artifact storage: keys are made by the server; files are reached only through these helpers.

Any storage backend's error (OSError on disk, botocore's ClientError or EndpointConnectionError on
S3, ...) becomes ``Unavailable`` (503 + Retry-After, code ``storage_unavailable``) here: callers
never see a backend's own exception types.
"""

import hashlib
import logging
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

from core.errors import ModelyardError, Unavailable

logger = logging.getLogger(__name__)


def artifact_storage() -> Storage:
    return storages["artifacts"]


def artifact_new_key(model_id: int) -> str:
    # The client's filename never reaches the key: no traversal, no collisions, no overwrite.
    return f"models/{model_id}/{uuid.uuid4().hex}.bin"


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Turn whatever the backend raises into a retryable 503; the cause goes to the log."""
    try:
        yield
    except ModelyardError:
        raise
    except Exception as exc:  # every backend has its own exception types: catch them all, here only
        raise _unavailable(action, exc) from exc


def _unavailable(action: str, exc: Exception) -> Unavailable:
    reason = (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__
    logger.warning("artifact storage could not %s: %r", action, exc)
    return Unavailable(f"Artifact storage could not {action} ({reason})", code="storage_unavailable")


def artifact_save(key: str, content: File) -> None:
    with storage_errors("keep the file"):
        saved = artifact_storage().save(key, content)
    if saved != key:  # a storage that renamed the file would break the row -> file link
        artifact_discard(saved)
        raise RuntimeError(f"Storage stored {key!r} as {saved!r}")


def artifact_delete(key: str) -> None:
    with storage_errors("delete the file"):
        artifact_storage().delete(key)


def artifact_discard(key: str) -> None:
    """Best-effort clean-up after a failure: never raises. What stays behind is collected later by
    the orphan sweep (registry.artifacts_sweep_orphans)."""
    try:
        artifact_storage().delete(key)
    except Exception:
        logger.warning("could not delete artifact %s; the orphan sweep will collect it", key, exc_info=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_local_path(key: str, sha256: str) -> Path:
    """A local file for the artifact: the file itself on disk storage, else a cached download.

    Each cached artifact has a folder of its own, named by its (unguessable) storage key, so a
    relative path inside one model file (ONNX external data) cannot reach another artifact's bytes.
    A missing object raises FileNotFoundError; any other storage failure raises Unavailable.
    """
    storage = artifact_storage()
    try:
        return Path(storage.path(key))
    except NotImplementedError:
        pass
    cached = artifact_cache_folder(key) / sha256
    if not cached.exists():
        _download(storage, key, cached)
    return cached


def artifact_cache_folder(key: str) -> Path:
    parts = PurePosixPath(key).parts
    if not parts or PurePosixPath(key).is_absolute() or any(part in (".", "..") for part in parts):
        raise ValueError(f"Not an artifact key: {key!r}")
    return Path(settings.ARTIFACT_CACHE_DIR).joinpath(*parts)


def _download(storage: Storage, key: str, cached: Path) -> None:
    partial = cached.with_name(f"{cached.name}.{uuid.uuid4().hex}.part")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(key, "rb") as source, partial.open("wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        partial.replace(cached)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        if _missing(storage, key):
            raise FileNotFoundError(f"Artifact {key} is not in storage") from exc
        raise _unavailable("read the file", exc) from exc


def _missing(storage: Storage, key: str) -> bool:
    """True only when the storage answers that the object does not exist."""
    try:
        return not storage.exists(key)
    except Exception:
        return False
