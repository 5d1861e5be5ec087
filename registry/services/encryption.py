"""Key rotation for artifacts at rest: every stored file sealed with an older key (or not sealed at all,
from before encryption was turned on) is re-sealed with the active key, in place, one file at a time.

Runs on a worker (``registry.artifacts_reencrypt``, queued by ``manage.py rotate_artifact_key``).
Idempotent: a file already under the active key is only looked at (its first 73 bytes), so a run that
died half-way is simply run again. Each file is read and decrypted with its old key, sealed with a
fresh data key under the active key and written over the same key atomically (a rename on disk, one
PUT or multipart upload on S3), so a reader sees the old file or the new one, never half of each; the
plaintext, and so its sha256 and every local cache, stays the same. A file that fails authentication
is left as it is (the evidence) and counted, as is one sealed under a key id no longer configured.
"""

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from django.db import transaction

from core.errors import ModelyardError, Unavailable
from registry import envelope
from registry.artifacts import ArtifactTampered, artifact_keys, artifact_open, artifact_storage, sealing_reader
from registry.services.audit import audit_record
from registry.services.storage import _walk

logger = logging.getLogger(__name__)
ROOTS = ("models", "batch")
_HEAD = envelope.HEAD_BYTES


def artifacts_reencrypt() -> dict[str, Any]:
    """Re-seal every artifact not under the active key; audit what was done (one event)."""
    keys = artifact_keys()
    if not keys:
        raise ModelyardError("No artifact keys are configured (MODELYARD_ARTIFACT_KEYS): nothing to encrypt with")
    active = next(iter(keys))
    storage = artifact_storage()
    counts = {"current": 0, "resealed": 0, "tampered": 0, "unknown_key": 0, "missing": 0}
    for root in ROOTS:
        for key in _walk(storage, root):
            counts[_reseal(storage, key, active)] += 1
    with transaction.atomic():
        audit_record(actor=None, action="artifacts.reencrypted", target="storage:", team=None,
                     after={**counts, "key_id": active})
    logger.info("artifact key rotation to %s: %s", active, counts)
    return {**counts, "key_id": active}


def _reseal(storage: Any, key: str, active: str) -> str:
    try:
        if envelope.key_id(_head(storage, key)) == active:
            return "current"
        with artifact_open(key) as plaintext, sealing_reader(plaintext, active, artifact_keys()[active]) as sealed:
            _replace(storage, key, sealed)
    except FileNotFoundError:  # deleted meanwhile (retention, a sweep): nothing to do
        return "missing"
    except ArtifactTampered:
        logger.error("artifact %s does not authenticate; left as it is", key)
        return "tampered"
    except Unavailable as exc:
        if exc.code != "artifact_key_missing":
            raise  # storage down: the task retries, and skips what it already did
        return "unknown_key"  # its key was dropped too early: left as it is, counted, the run goes on
    logger.info("artifact %s re-sealed with key %s", key, active)
    return "resealed"


def _head(storage: Any, key: str) -> bytes:
    if hasattr(storage, "bucket"):  # S3: a ranged GET, not the whole object
        try:
            return _s3_object(storage, key).get(Range=f"bytes=0-{_HEAD - 1}")["Body"].read()
        except Exception as exc:
            if not storage.exists(key):
                raise FileNotFoundError(key) from exc
            raise
    with storage.open(key, "rb") as handle:
        return handle.read(_HEAD)


def _replace(storage: Any, key: str, sealed: BinaryIO) -> None:
    """Write ``sealed`` over ``key`` in one step: readers see the old file or the new one."""
    if hasattr(storage, "bucket"):
        _s3_object(storage, key).upload_fileobj(sealed, Config=storage.transfer_config)
        return
    target = Path(storage.path(key))  # NotImplementedError: a storage this rotation does not know
    mode = target.stat().st_mode & 0o777
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=".reseal-")
    try:
        with os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(sealed, out, envelope.CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, mode)
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)


def _s3_object(storage: Any, key: str) -> Any:
    from storages.utils import clean_name

    return storage.bucket.Object(storage._normalize_name(clean_name(key)))
