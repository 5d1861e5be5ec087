"""Faults around a tick: a tick delivered twice decides once; a tick that dies half-way leaves the last decision."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from registry.models import ModelAlias
from rollouts.models import Rollout
from rollouts.services import rollout_tick
from rollouts.services import tick as tick_module


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_apply_one_step(start, loaded_everywhere, traffic, ready_iris, candidate):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    rollout = start()
    now = timezone.now()
    rollout_tick(rollout_id=rollout.id, now=now)
    traffic(ready_iris, requests=400)
    traffic(candidate, requests=100)
    later, barrier, outcomes = now + timedelta(seconds=13), threading.Barrier(2), []

    def tick() -> None:
        barrier.wait()
        try:
            outcomes.append(rollout_tick(rollout_id=rollout.id, now=later))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["None", "advanced"]
    assert ModelAlias.objects.get(name="production").candidate_weight == 50
    assert Rollout.objects.get(pk=rollout.id).events.filter(kind="advanced").count() == 2  # first traffic + this


def test_a_tick_that_dies_half_way_changes_nothing(start, loaded_everywhere, traffic, ready_iris, candidate,
                                                   monkeypatch):
    rollout = start()
    now = timezone.now()
    rollout_tick(rollout_id=rollout.id, now=now)
    traffic(candidate, requests=100)

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")  # after the weight was written, before the event

    with monkeypatch.context() as patched, pytest.raises(SystemExit):
        patched.setattr(tick_module, "event_record", killed)
        rollout_tick(rollout_id=rollout.id, now=now + timedelta(seconds=13))
    rollout.refresh_from_db()
    assert (rollout.step, rollout.weight) == (0, 5)
    assert ModelAlias.objects.get(name="production").candidate_weight == 5
    assert rollout_tick(rollout_id=rollout.id, now=now + timedelta(seconds=14)) == "advanced"
    assert ModelAlias.objects.get(name="production").candidate_weight == 50
