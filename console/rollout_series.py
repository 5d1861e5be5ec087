"""A rollout's chart data: each version's traffic share over time from the recorded decisions, and its
error rate and p95 per minute from the metric rollups (two queries, whatever the rollout's length)."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from rollouts.models import ACTIVE, Rollout, RolloutEvent, Strategy, VersionMetricMinute


def _seconds(moment: Any) -> float:
    return round(moment.timestamp(), 3)


def weight_lines(rollout: Rollout) -> dict[str, Any]:
    events = list(RolloutEvent.objects.filter(rollout=rollout).order_by("at", "id").values_list("at", "weight_after"))
    times = [_seconds(at) for at, _ in events]
    weights = [weight for _, weight in events]
    if rollout.status in ACTIVE:  # where it stands now, so the line reaches the present
        times.append(_seconds(timezone.now()))
        weights.append(rollout.weight)
    shadow = rollout.strategy == Strategy.SHADOW
    stable = [100 if shadow else 100 - weight for weight in weights]
    label = f"v{rollout.candidate.version} {'shadow copy' if shadow else 'share'} %"
    return {"t": times, "lines": [{"label": f"v{rollout.stable.version} share %", "values": stable},
                                  {"label": label, "values": weights}]}


def metric_lines(rollout: Rollout) -> dict[str, Any]:
    versions = {rollout.stable_id: rollout.stable.version, rollout.candidate_id: rollout.candidate.version}
    since = rollout.created_at - timedelta(minutes=1)
    until = rollout.finished_at or timezone.now()
    rows = list(VersionMetricMinute.objects.filter(version_id__in=versions, minute__gte=since, minute__lte=until)
                .order_by("minute").values_list("minute", "version_id", "requests", "errors", "p95_ms"))
    minutes = sorted({minute for minute, *_ in rows})
    index = {minute: i for i, minute in enumerate(minutes)}
    errors = {pk: [None] * len(minutes) for pk in versions}
    p95 = {pk: [None] * len(minutes) for pk in versions}
    for minute, pk, requests, failed, latency in rows:
        errors[pk][index[minute]] = round(failed / requests, 4) if requests else None
        p95[pk][index[minute]] = latency
    return {"t": [_seconds(minute) for minute in minutes],
            "error_rate": [{"label": f"v{number} error rate", "values": errors[pk]} for pk, number in versions.items()],
            "p95_ms": [{"label": f"v{number} p95 ms", "values": p95[pk]} for pk, number in versions.items()]}


def series(rollout: Rollout) -> dict[str, Any]:
    return {"active": rollout.status in ACTIVE, "status": rollout.status, "weight": weight_lines(rollout),
            "metrics": metric_lines(rollout)}
