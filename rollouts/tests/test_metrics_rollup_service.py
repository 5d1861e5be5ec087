"""The per-minute roll-up: windows from every process into PostgreSQL, idempotently."""

from datetime import timedelta

from django.utils import timezone

from core import windows
from rollouts.models import VersionMetricMinute
from rollouts.services import metrics_rollup


def test_minutes_are_rolled_up_once_whatever_the_reruns(ready_iris):
    now = timezone.now().replace(second=30, microsecond=0)
    minute = now.replace(second=0) - timedelta(minutes=1)
    source = windows.Accumulator()
    for second in (5, 40):
        stamp = int(minute.timestamp()) + second
        counts = source._data[(ready_iris.id, stamp)]
        counts.update({"n": 10, "e": 1, "b20": 10})
    windows.flush(source)
    assert metrics_rollup(now=now) == 1
    assert metrics_rollup(now=now) == 1
    row = VersionMetricMinute.objects.get(version=ready_iris, minute=minute)
    assert (row.requests, row.errors, row.latency_buckets) == (20, 2, {"20": 20})
    assert row.p95_ms == windows.BUCKETS_MS[20]
