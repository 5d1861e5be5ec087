"""Artifact storage: keys are made by the server; files are reached only through these helpers.

Any storage backend's error (OSError on disk, botocore's ClientError or EndpointConnectionError on
S3, ...) becomes ``Unavailable`` (503 + Retry-After, code ``storage_unavailable``) here: callers
never see a backend's own exception types.
"""

import hashlib
import io
import logging
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

from core.errors import ModelyardError, Unavailable
from registry import envelope
from registry.artifact_cache import cache_folder, cache_hit, cache_touch, cache_trim

logger = logging.getLogger(__name__)
CHUNK = envelope.CHUNK


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
    """Keep ``content`` under ``key``: sealed (registry.envelope) when artifact keys are configured.

    Streams either way: disk storage moves a temporary upload into place or copies it in chunks,
    S3 uploads in multipart parts (settings: AWS transfer config), never the whole file in memory."""
    keys = artifact_keys()
    if keys:
        content = File(sealing_reader(content, *next(iter(keys.items()))), name=key)
    with storage_errors("keep the file"):
        saved = artifact_storage().save(key, content)
    if saved != key:  # a storage that renamed the file would break the row -> file link
        artifact_discard(saved)
        raise RuntimeError(f"Storage stored {key!r} as {saved!r}")


def artifact_keys() -> dict[str, bytes]:
    """Configured key-encryption keys by id, the active one first; empty: artifacts are kept as they are."""
    return settings.MODELYARD_ARTIFACT_KEYS


def sealing_reader(content: BinaryIO | File, kid: str, kek: bytes) -> io.BufferedReader:
    if getattr(content, "seekable", lambda: False)():
        content.seek(0)
    return io.BufferedReader(envelope.IterReader(envelope.encrypt(content, kid, kek)), CHUNK)  # type: ignore[arg-type]


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


class ArtifactTampered(Exception):
    """A sealed artifact's ciphertext does not authenticate: handled like a plaintext whose sha256 changed."""


def artifact_open(key: str) -> BinaryIO:
    """The artifact's plaintext as a read-only stream (decrypted on the fly when it is sealed).

    Raises FileNotFoundError for a missing object, Unavailable for any other storage failure; a
    sealed file that fails authentication raises ArtifactTampered while it is read."""
    storage = artifact_storage()
    raw = _open_raw(storage, key)
    try:
        with storage_errors("read the file"):
            head = envelope.read_exactly(raw, envelope.HEAD_BYTES)
        _check_key(head, key)
    except Exception:
        raw.close()
        raise
    if not envelope.is_sealed(head):
        if raw.seekable():
            raw.seek(0)
            return raw
        return io.BufferedReader(envelope.IterReader(_chain(head, raw), on_close=raw.close), CHUNK)
    sealed = io.BufferedReader(envelope.IterReader(_chain(head, raw)), CHUNK)
    return io.BufferedReader(envelope.IterReader(_plaintext(sealed, key), on_close=raw.close), CHUNK)


def _check_key(head: bytes, key: str) -> None:
    """Before any byte is sent: a file sealed under a key id nobody configured is a 503 now, not a
    download cut short later (configuration, not tampering: put the key back)."""
    kid = envelope.key_id(head)
    if envelope.is_sealed(head) and kid is not None and kid not in artifact_keys():
        logger.error("artifact %s is sealed with key id %r, which is not configured", key, kid)
        raise Unavailable(f"Artifact storage cannot decrypt the file (key id {kid!r} is not configured)",
                          code="artifact_key_missing")


def _chain(head: bytes, raw: BinaryIO) -> Iterator[bytes]:
    yield head
    while block := _read(raw):
        yield block


def _read(raw: BinaryIO) -> bytes:
    with storage_errors("read the file"):
        return raw.read(CHUNK)


def _plaintext(sealed: BinaryIO, key: str) -> Iterator[bytes]:
    try:
        yield from envelope.decrypt(sealed, artifact_keys())
    except envelope.Tampered as exc:
        logger.error("artifact %s failed authentication: %s", key, exc)
        raise ArtifactTampered(f"The stored artifact {key} does not authenticate: {exc}") from None
    except envelope.UnknownKey as exc:  # configuration, not tampering: retry once the key is back
        raise Unavailable(f"Artifact storage cannot decrypt the file ({exc})", code="artifact_key_missing") from None


def _open_raw(storage: Storage, key: str) -> BinaryIO:
    """The stored bytes as a stream: S3 objects straight from the response body (one GET, never
    spooled into memory as S3Storage.open would), other storages through open()."""
    try:
        if hasattr(storage, "bucket") and hasattr(storage, "_normalize_name"):
            return _s3_body(storage, key)
        return storage.open(key, "rb")
    except FileNotFoundError:
        raise
    except Exception as exc:
        if _missing(storage, key):
            raise FileNotFoundError(f"Artifact {key} is not in storage") from exc
        raise _unavailable("read the file", exc) from exc


def _s3_body(storage: Any, key: str) -> BinaryIO:
    from storages.utils import clean_name

    body = storage.bucket.Object(storage._normalize_name(clean_name(key))).get()["Body"]
    body.seekable = lambda: False  # StreamingBody has no seekable(); readers check it
    return body


def artifact_local_path(key: str, sha256: str) -> Path:
    """A local plaintext file for the artifact: the stored file itself on disk storage when it is not
    sealed, else a copy in the local cache (artifact_cache), downloaded and decrypted once per machine.

    A missing object raises FileNotFoundError, a sealed one that fails authentication
    ArtifactTampered; any other storage failure raises Unavailable.
    """
    storage = artifact_storage()
    try:
        direct = Path(storage.path(key))
    except NotImplementedError:
        direct = None
    if direct is not None and not _sealed_file(direct):
        return direct
    cached = cache_folder(key) / sha256
    if not cache_hit(cached):
        _download(key, cached)
        cache_trim(keep=cached)
    return cached


def artifact_cache_folder(key: str) -> Path:
    return cache_folder(key)


def _sealed_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return envelope.is_sealed(handle.read(len(envelope.MAGIC)))
    except FileNotFoundError:
        return False  # the caller's open reports it


def _download(key: str, cached: Path) -> None:
    partial = cached.with_name(f"{cached.name}.{uuid.uuid4().hex}.part")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with artifact_open(key) as source, partial.open("wb") as target:
            shutil.copyfileobj(source, target, CHUNK)
        cache_touch(partial)
        partial.replace(cached)
    except (FileNotFoundError, ArtifactTampered, ModelyardError):
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise _unavailable("read the file", exc) from exc


def _missing(storage: Storage, key: str) -> bool:
    """True only when the storage answers that the object does not exist."""
    try:
        return not storage.exists(key)
    except Exception:
        return False
