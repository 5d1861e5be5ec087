"""Per-team storage quotas: uploads past the quota are refused with 507 and what to do about it."""

from django.conf import settings
from django.db.models import Sum

from core.errors import InsufficientStorage
from registry.models import ModelVersion, Team, VersionStatus


def team_storage_quota(team: Team) -> int:
    """Bytes the team may keep; 0 means no limit."""
    own = team.storage_quota_bytes
    return own if own is not None else settings.MODELYARD_TEAM_STORAGE_QUOTA_BYTES


def team_storage_used(team: Team) -> int:
    """Uploaded artifacts of the team's versions, deleted ones excluded (their files are on their way out)."""
    used = (ModelVersion.objects.filter(model__team=team).exclude(status=VersionStatus.DELETED)
            .aggregate(total=Sum("size_bytes"))["total"])
    return used or 0


def quota_check(*, team: Team, incoming: int) -> None:
    """Refuse an upload of ``incoming`` bytes that would take the team past its quota."""
    quota = team_storage_quota(team)
    if not quota:
        return
    used = team_storage_used(team)
    if used + incoming > quota:
        raise InsufficientStorage(
            f"Team {team.slug!r} uses {_human(used)} of its {_human(quota)} storage quota; this upload needs "
            f"{_human(incoming)}. Delete or archive old versions (DELETE /api/v1/models/<name>/versions/<n>) "
            "or ask an administrator for a larger quota.", field="file")


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
