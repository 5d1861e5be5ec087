"""Artifact storage: keys are made by the server; files are reached only through these helpers."""

import hashlib
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages


def artifact_storage() -> Storage:
    return storages["artifacts"]


def artifact_new_key(model_id: int) -> str:
    # The client's filename never reaches the key: no traversal, no collisions, no overwrite.
    return f"models/{model_id}/{uuid.uuid4().hex}.bin"


def artifact_save(key: str, content: File) -> None:
    saved = artifact_storage().save(key, content)
    if saved != key:  # a storage that renamed the file would break the row -> file link
        artifact_storage().delete(saved)
        raise RuntimeError(f"Storage stored {key!r} as {saved!r}")


def artifact_delete(key: str) -> None:
    artifact_storage().delete(key)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_local_path(key: str, sha256: str) -> Path:
    """A local file for the artifact: the file itself on disk storage, else a cached download."""
    storage = artifact_storage()
    try:
        return Path(storage.path(key))
    except NotImplementedError:
        pass
    cached = Path(settings.ARTIFACT_CACHE_DIR) / sha256
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{uuid.uuid4().hex}.part")
        with storage.open(key, "rb") as source, partial.open("wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        partial.replace(cached)
    return cached
