"""Storage hygiene: files under models/ that no version references are removed after a grace period.

Files become orphans when the upload's row never committed (the process died between the copy and
the insert) or a worker died after saving an ONNX conversion and before recording it. Only the
Storage API is used (listdir, get_modified_time, delete), so this works on disk and on S3 alike.
"""

import logging
from collections.abc import Iterator
from datetime import timedelta
from itertools import islice

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registry.artifacts import artifact_delete, artifact_storage
from registry.models import ModelVersion
from registry.services.audit import audit_record

logger = logging.getLogger(__name__)
ROOT = "models"
_BATCH = 500
_AUDITED_KEYS = 100


def artifacts_sweep_orphans(*, older_than: timedelta) -> dict[str, int]:
    """Delete unreferenced files last modified before the grace period; audit what went (one event)."""
    cutoff, storage = timezone.now() - older_than, artifact_storage()
    counts, removed = {"scanned": 0, "kept_recent": 0}, []
    try:
        for batch in _batches(_walk(storage, ROOT)):
            counts["scanned"] += len(batch)
            for key in _unreferenced(batch):
                # Only unreferenced keys are dated: on S3 each date is a request.
                if storage.get_modified_time(key) >= cutoff:  # its row may still be about to commit
                    counts["kept_recent"] += 1
                    continue
                artifact_delete(key)
                removed.append(key)
                logger.info("removed orphan artifact %s", key)
    finally:  # a storage failure halfway (the task fails, beat runs it again) still records what went
        if removed:
            _audit(removed, counts)
    return {**counts, "removed": len(removed)}


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # disk storage before the first upload; S3 answers an empty listing
        return
    for name in files:
        yield f"{folder}/{name}"
    for name in folders:
        yield from _walk(storage, f"{folder}/{name}")


def _batches(keys: Iterator[str]) -> Iterator[list[str]]:
    while batch := list(islice(keys, _BATCH)):
        yield batch


def _unreferenced(keys: list[str]) -> list[str]:
    rows = ModelVersion.objects.filter(Q(storage_key__in=keys) | Q(serving_storage_key__in=keys))
    referenced = {key for pair in rows.values_list("storage_key", "serving_storage_key") for key in pair}
    return [key for key in keys if key not in referenced]


def _audit(removed: list[str], counts: dict[str, int]) -> None:
    with transaction.atomic():
        audit_record(actor=None, action="artifacts.orphans_removed", target=f"storage:{ROOT}/", team=None,
                     after={**counts, "removed": len(removed), "keys": removed[:_AUDITED_KEYS]})
