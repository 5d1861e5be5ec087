"""The beat decision on one rollout: wait for loads, advance, hold, complete, roll back, abort; once per tick."""

from datetime import timedelta

from django.utils import timezone

from registry.models import AuditEvent, ModelAlias
from rollouts.models import Rollout
from rollouts.services import rollout_tick

T0 = timezone.now()


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def alias_state() -> tuple:
    alias = ModelAlias.objects.get(name="production")
    return alias.version.version, alias.candidate_version.version if alias.candidate_version else None, \
        alias.candidate_weight, alias.traffic_mode


def kinds(rollout: Rollout) -> list[str]:
    return [f"{e.kind}:{e.rule}" for e in rollout.events.order_by("at", "id")]


def test_no_traffic_until_every_live_worker_has_the_candidate(start, loaded_everywhere, candidate):
    loaded_everywhere["web-2"].discard(candidate.id)
    rollout = start()
    assert alias_state() == (1, 2, 0, "split")  # announced, so workers load it; no traffic yet
    assert rollout_tick(rollout_id=rollout.id, now=at(0)) == "held"
    assert rollout_tick(rollout_id=rollout.id, now=at(1)) == "held"
    assert alias_state() == (1, 2, 0, "split")
    assert kinds(rollout) == ["started:started", "waiting:candidate_not_loaded"]  # recorded once
    loaded_everywhere["web-2"].add(candidate.id)
    assert rollout_tick(rollout_id=rollout.id, now=at(2)) == "advanced"
    assert alias_state() == (1, 2, 5, "split")


def test_no_live_worker_means_no_traffic(start, monkeypatch):
    from core import presence

    monkeypatch.setattr(presence, "live", lambda: {})
    rollout = start()
    assert rollout_tick(rollout_id=rollout.id, now=at(0)) == "held"
    assert alias_state()[2] == 0


def test_a_healthy_canary_walks_its_steps_and_moves_the_alias(start, loaded_everywhere, traffic, ready_iris,
                                                              candidate):
    rollout = start()
    traffic(ready_iris, requests=400)
    traffic(candidate, requests=100)
    assert rollout_tick(rollout_id=rollout.id, now=at(0)) == "advanced"
    assert rollout_tick(rollout_id=rollout.id, now=at(11)) is None  # the window is not a full step yet
    assert rollout_tick(rollout_id=rollout.id, now=at(13)) == "advanced"
    assert alias_state() == (1, 2, 50, "split")
    assert rollout_tick(rollout_id=rollout.id, now=at(26)) == "advanced"
    assert alias_state() == (1, 2, 100, "split")
    assert rollout_tick(rollout_id=rollout.id, now=at(39)) == "completed"
    assert alias_state() == (2, None, 0, "split")
    rollout.refresh_from_db()
    assert rollout.status == "completed" and rollout.weight == 100
    assert kinds(rollout) == ["started:started", "advanced:candidate_loaded_everywhere", "advanced:guards_hold",
                              "advanced:guards_hold", "completed:guards_hold"]
    completed = rollout.events.last()
    assert completed.evidence["candidate"]["requests"] == 100 and completed.evidence["stable"]["requests"] == 400
    assert AuditEvent.objects.filter(action="alias.set", after__rollout=rollout.id).count() == 1


def test_a_thin_window_holds_once_then_advances_when_traffic_comes(start, loaded_everywhere, traffic, candidate):
    rollout = start()
    rollout_tick(rollout_id=rollout.id, now=at(0))
    traffic(candidate, requests=3)
    assert rollout_tick(rollout_id=rollout.id, now=at(13)) == "held"
    assert rollout_tick(rollout_id=rollout.id, now=at(14)) == "held"
    assert kinds(rollout)[-1] == "held:min_requests" and len(kinds(rollout)) == 3
    traffic(candidate, requests=30)
    assert rollout_tick(rollout_id=rollout.id, now=at(15)) == "advanced"


def test_a_failing_candidate_is_rolled_back_before_the_step_ends(start, loaded_everywhere, traffic, ready_iris,
                                                                 candidate):
    rollout = start()
    rollout_tick(rollout_id=rollout.id, now=at(0))
    traffic(ready_iris, requests=300)
    traffic(candidate, requests=30, errors=15)
    assert rollout_tick(rollout_id=rollout.id, now=at(3)) == "rolled_back"
    assert alias_state() == (1, None, 0, "split")
    event = Rollout.objects.get(pk=rollout.id).events.last()
    assert (event.kind, event.rule) == ("rolled_back", "max_error_rate")
    assert event.evidence["candidate"]["errors"] == 15 and event.evidence["stable"]["requests"] == 300


def test_a_disagreeing_shadow_is_aborted(start, loaded_everywhere, traffic, ready_iris, candidate):
    rollout = start(strategy="shadow", steps=[], guards={"min_requests": 20, "min_agreement": 0.9})
    assert rollout_tick(rollout_id=rollout.id, now=at(0)) == "advanced"
    assert alias_state() == (1, 2, 0, "shadow")
    traffic(ready_iris, requests=50)
    traffic(candidate, requests=50, shadow_rows=100, agreed=30)
    assert rollout_tick(rollout_id=rollout.id, now=at(3)) == "aborted"
    assert alias_state() == (1, None, 0, "split")
    assert Rollout.objects.get(pk=rollout.id).events.last().rule == "min_agreement"


def test_an_agreeing_shadow_completes_without_moving_the_alias(start, loaded_everywhere, traffic, ready_iris,
                                                               candidate):
    rollout = start(strategy="shadow", steps=[], guards={"min_requests": 20})
    rollout_tick(rollout_id=rollout.id, now=at(0))
    traffic(ready_iris, requests=50)
    traffic(candidate, requests=50, shadow_rows=50, agreed=50)
    assert rollout_tick(rollout_id=rollout.id, now=at(13)) == "completed"
    assert alias_state() == (1, None, 0, "split")


def test_blue_green_switches_at_once_and_completes_after_the_bake(start, loaded_everywhere, traffic, ready_iris,
                                                                  candidate):
    rollout = start(strategy="blue_green", steps=[])
    traffic(ready_iris, requests=300)
    assert rollout_tick(rollout_id=rollout.id, now=at(0)) == "advanced"
    assert alias_state() == (1, 2, 100, "split")
    traffic(candidate, requests=300)
    assert rollout_tick(rollout_id=rollout.id, now=at(13)) == "completed"
    assert alias_state() == (2, None, 0, "split")


def test_a_tick_on_a_finished_or_paused_rollout_does_nothing(start, loaded_everywhere, owner):
    from rollouts.services import rollout_pause

    rollout = start()
    rollout_pause(actor=owner, rollout=rollout)
    assert rollout_tick(rollout_id=rollout.id, now=at(0)) is None
    assert alias_state() == (1, 2, 0, "split")


def test_an_alias_moved_by_hand_stops_the_rollout(start, loaded_everywhere, owner, model, candidate):
    from registry import services

    rollout = start()
    services.alias_set(actor=owner, model=model, name="production", version=candidate)
    assert rollout_tick(rollout_id=rollout.id, now=at(0)) == "aborted"
    assert Rollout.objects.get(pk=rollout.id).events.last().rule == "alias_changed"
