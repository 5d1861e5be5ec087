"""The local cache of artifacts kept in an object store (or sealed on disk): one download per machine.

Every cached file sits at ``<cache>/<storage key>/<sha256>``: a folder per artifact, named by its
unguessable storage key, so a relative path inside one model file (ONNX external data) cannot reach
another artifact's bytes, and the sha256 says which content it holds. The cache keeps under a size
budget (``MODELYARD_ARTIFACT_CACHE_BYTES``): after each download the least recently used files go
(a hit refreshes a file's mtime). A file in use stays readable after its removal (POSIX), so
eviction never breaks a runtime that is loading it.
"""

import logging
import os
import time
from pathlib import Path, PurePosixPath

from django.conf import settings

logger = logging.getLogger(__name__)


def cache_folder(key: str) -> Path:
    parts = PurePosixPath(key).parts
    if not parts or PurePosixPath(key).is_absolute() or any(part in (".", "..") for part in parts):
        raise ValueError(f"Not an artifact key: {key!r}")
    return Path(settings.ARTIFACT_CACHE_DIR).joinpath(*parts)


def cache_hit(path: Path) -> bool:
    try:
        cache_touch(path)
    except FileNotFoundError:
        return False
    return True


def cache_touch(path: Path) -> None:
    """Most recently used now, to the nanosecond (the kernel's own stamps are as coarse as a clock tick)."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


def cache_trim(keep: Path) -> int:
    """Remove least recently used files until the cache fits its budget; never ``keep``. Returns bytes freed."""
    budget = settings.MODELYARD_ARTIFACT_CACHE_BYTES
    entries, total = [], 0
    for path in Path(settings.ARTIFACT_CACHE_DIR).rglob("*"):
        if path.name.endswith(".part"):
            continue  # another process's download in progress
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        if path.is_file():
            entries.append((info.st_mtime_ns, info.st_size, path))
            total += info.st_size
    freed = 0
    for _, size, path in sorted(entries):
        if total - freed <= budget:
            break
        if path == keep:
            continue
        path.unlink(missing_ok=True)
        freed += size
        logger.info("artifact cache: evicted %s (%d bytes) to keep under %d bytes", path, size, budget)
    return freed


def cache_sweep_partials(older_than_seconds: float = 3600) -> None:
    """Downloads a killed process left half-written."""
    cutoff = time.time() - older_than_seconds
    for path in Path(settings.ARTIFACT_CACHE_DIR).rglob("*.part"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue
