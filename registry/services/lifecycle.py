"""Archiving takes a ready version out of service for good (until restored); nothing is deleted.

Both directions are refused with a 409, not ignored, when the version is not in the state they start
from: archiving an archived version is a conflict, so a caller working from a stale view learns it,
and the audit log never holds a change that changed nothing.
"""

from django.db import transaction

from core.errors import Conflict
from registry.models import ModelVersion, RegisteredModel, VersionStatus
from registry.permissions import User
from registry.services.audit import audit_record
from registry.services.usage import version_uses


def _locked(version: ModelVersion) -> ModelVersion:
    # The model row first, as alias_set does: an alias move and an archive of one model queue up.
    RegisteredModel.objects.select_for_update().get(pk=version.model_id)
    return ModelVersion.objects.select_for_update().select_related("model__team").get(pk=version.pk)


def _record(actor: User, version: ModelVersion, action: str, before: str, ip: str | None) -> None:
    audit_record(actor=actor, action=action, target=f"model:{version.model.name}/v{version.version}",
                 team=version.model.team, before={"status": before}, after={"status": version.status}, ip=ip)


@transaction.atomic
def version_archive(*, actor: User, version: ModelVersion, ip: str | None = None) -> ModelVersion:
    """Archive a ready version that no alias points at. Failed and unvalidated versions serve nothing
    already, and restoring one to ready would skip its validation, so only ready versions qualify."""
    version = _locked(version)
    if version.status == VersionStatus.ARCHIVED:
        raise Conflict(f"Version {version.version} is already archived", field="version", code="already_archived")
    if version.status != VersionStatus.READY:
        raise Conflict(f"Version {version.version} is {version.status}; only ready versions can be archived",
                       field="version", code="version_not_ready")
    uses = version_uses(version)  # aliases, a rollout's candidate, and what apps above register
    if uses:
        raise Conflict(f"Version {version.version} is in use by {', '.join(uses)}; move or stop that first",
                       field="version", code="version_aliased")
    version.status = VersionStatus.ARCHIVED
    version.save(update_fields=["status"])
    _record(actor, version, "version.archive", VersionStatus.READY, ip)
    return version


@transaction.atomic
def version_restore(*, actor: User, version: ModelVersion, ip: str | None = None) -> ModelVersion:
    """Bring an archived version back to ready (only ready versions are ever archived). If its file
    changed meanwhile, loading it checks the sha256 and quarantines it, as for any ready version."""
    version = _locked(version)
    if version.status != VersionStatus.ARCHIVED:
        raise Conflict(f"Version {version.version} is {version.status}, not archived", field="version",
                       code="not_archived")
    version.status = VersionStatus.READY
    version.save(update_fields=["status"])
    _record(actor, version, "version.restore", VersionStatus.ARCHIVED, ip)
    return version
