"""Deleting a version: a tombstone at once (the number is never reused, history stays), files later.

The artifact and its ONNX conversion stay in storage for MODELYARD_DELETED_RETENTION_DAYS, so a
mistaken delete can be recovered by an operator; then a beat job removes them and marks the row purged.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, ModelyardError
from registry.artifacts import artifact_delete
from registry.models import ModelVersion, RegisteredModel, VersionStatus
from registry.permissions import User
from registry.services.audit import audit_record
from registry.services.usage import version_uses

logger = logging.getLogger(__name__)
_DELETABLE = (VersionStatus.READY, VersionStatus.FAILED, VersionStatus.ARCHIVED)


@transaction.atomic
def version_delete(*, actor: User, version: ModelVersion, ip: str | None = None) -> ModelVersion:
    RegisteredModel.objects.select_for_update().get(pk=version.model_id)  # alias moves queue behind this
    version = ModelVersion.objects.select_for_update().select_related("model__team").get(pk=version.pk)
    if version.status not in _DELETABLE:
        raise Conflict(f"Version {version.version} is {version.status}; wait until its validation ends",
                       field="version", code="version_busy")
    uses = version_uses(version)
    if uses:
        raise Conflict(f"Version {version.version} is in use by {', '.join(uses)}; stop that first",
                       field="version", code="version_in_use")
    before = version.status
    version.status, version.deleted_at = VersionStatus.DELETED, timezone.now()
    version.save(update_fields=["status", "deleted_at"])
    audit_record(actor=actor, action="version.delete", target=f"model:{version.model.name}/v{version.version}",
                 team=version.model.team, before={"status": before},
                 after={"status": VersionStatus.DELETED, "files_removed_after": "retention"}, ip=ip)
    return version


def versions_purge_deleted(*, retention: timedelta, limit: int = 200) -> dict[str, int]:
    """Remove the files of versions deleted longer ago than the retention; one audit event per run."""
    due = ModelVersion.objects.filter(status=VersionStatus.DELETED, purged_at__isnull=True,
                                      deleted_at__lt=timezone.now() - retention).select_related("model__team")
    purged: list[str] = []
    for version in due[:limit]:
        try:
            for key in {version.storage_key, version.serving_storage_key} - {""}:
                artifact_delete(key)
        except ModelyardError:  # storage down: the next run tries again
            logger.warning("could not purge %s; will retry", version, exc_info=True)
            continue
        ModelVersion.objects.filter(pk=version.pk).update(purged_at=timezone.now())
        purged.append(f"model:{version.model.name}/v{version.version}")
    if purged:
        audit_record(actor=None, action="versions.purge", target="storage", team=None,
                     after={"purged": purged, "retention_days": retention.days})
    return {"purged": len(purged)}
