"""Per-minute roll-up of the shared metrics windows into PostgreSQL, for charts and for history.

Idempotent: a minute is recomputed from the windows and overwritten, so a roll-up that runs twice, or
late, writes the same rows. Windows live in Redis for two hours (core.windows.KEEP_SECONDS).
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from core import windows
from registry.models import ModelAlias
from rollouts.models import ACTIVE, Rollout, VersionMetricMinute


def _watched_versions() -> set[int]:
    """Versions that can take traffic through an alias: aliased, candidates, and those of active rollouts."""
    ids = set(ModelAlias.objects.values_list("version_id", flat=True))
    ids |= set(ModelAlias.objects.filter(candidate_version__isnull=False).values_list("candidate_version_id",
                                                                                       flat=True))
    for stable, candidate in Rollout.objects.filter(Q(status__in=ACTIVE)).values_list("stable_id", "candidate_id"):
        ids |= {stable, candidate}
    return ids


def metrics_rollup(*, now: datetime | None = None, minutes: int = 3) -> int:
    """Write the last ``minutes`` whole minutes of every watched version; returns rows written."""
    now = now or timezone.now()
    last = now.replace(second=0, microsecond=0)
    written = 0
    for version_id in _watched_versions():
        for back in range(minutes, 0, -1):
            minute = last - timedelta(minutes=back)
            window = windows.read(version_id, minute.timestamp(), minute.timestamp() + 60)
            if not window.requests and not window.shadow_rows:
                continue
            buckets = {name[1:]: value for name, value in window.counts.items() if name.startswith("b")}
            VersionMetricMinute.objects.update_or_create(version_id=version_id, minute=minute, defaults={
                "requests": window.requests, "errors": window.errors, "latency_buckets": buckets,
                "p95_ms": window.percentile_ms(0.95), "shadow_rows": window.shadow_rows,
                "shadow_agreed": window.counts.get("a", 0)})
            written += 1
    return written
