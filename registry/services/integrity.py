"""A version whose artifact changed after upload is taken out of service, on the record."""

from django.db import transaction

from registry.models import ModelVersion, VersionStatus
from registry.services.audit import audit_record


@transaction.atomic
def version_quarantine(*, version_id: int, reason: str) -> bool:
    """Mark a ready version failed with the reason; True if this call did it (idempotent)."""
    version = ModelVersion.objects.select_for_update().select_related("model__team").filter(pk=version_id).first()
    if version is None or version.status != VersionStatus.READY:
        return False
    version.status, version.status_message = VersionStatus.FAILED, reason
    version.save(update_fields=["status", "status_message"])
    audit_record(actor=None, action="version.integrity_failed", team=version.model.team,
                 target=f"model:{version.model.name}/v{version.version}",
                 before={"status": VersionStatus.READY}, after={"status": VersionStatus.FAILED, "reason": reason})
    return True


@transaction.atomic
def version_suspension_record(*, version_id: int, reason: str, seconds: float) -> None:
    """On the record, for the model's owners: a serving process took the version out of service for a while."""
    version = ModelVersion.objects.select_related("model__team").filter(pk=version_id).first()
    if version is None:
        return
    audit_record(actor=None, action="version.suspended", team=version.model.team,
                 target=f"model:{version.model.name}/v{version.version}",
                 after={"reason": reason, "seconds": seconds})
