"""The beat tick: judge each running rollout on its metrics window and advance, hold, complete or roll back.

Each rollout is decided under its row lock (``select_for_update(skip_locked=True)``): a tick delivered
twice, or two beat processes, decide once; the other finds the row locked or already moved on. The
weight change, the rollout's new state and its event commit together, so a worker killed mid-tick
leaves the last decision in place and the next tick starts from it.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core import presence, windows
from registry.models import ModelAlias, TrafficMode
from registry.services.traffic import traffic_split_clear, traffic_split_promote, traffic_split_set
from rollouts.judge import Verdict, judge
from rollouts.models import EventKind, Rollout, Status, Strategy
from rollouts.services.events import event_record, is_repeat

SETTLE_SECONDS = 1.0  # the bus takes up to a second to carry a new weight: leave that second out
FLUSH_LAG_SECONDS = 1.0  # web processes flush their counts once a second: the last one is incomplete


def rollouts_tick(*, now: datetime | None = None) -> list[str]:
    """Decide every running rollout once; what happened to each, for the task's result."""
    ids = list(Rollout.objects.filter(status=Status.RUNNING).values_list("id", flat=True))
    return [f"{rollout_id}:{rollout_tick(rollout_id=rollout_id, now=now) or 'none'}" for rollout_id in ids]


@transaction.atomic
def rollout_tick(*, rollout_id: int, now: datetime | None = None) -> str | None:
    rollout = (Rollout.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("model__team", "stable", "candidate")
               .filter(pk=rollout_id, status=Status.RUNNING).first())
    if rollout is None:  # finished, paused, or another tick is deciding it right now
        return None
    now = now or timezone.now()
    alias = ModelAlias.objects.filter(model=rollout.model, name=rollout.alias).first()
    if alias is None or alias.version_id != rollout.stable_id or alias.candidate_version_id != rollout.candidate_id:
        return _abort_changed(rollout, alias)
    if rollout.step_started_at is None:
        return _first_traffic(rollout, now)
    candidate, stable = _windows(rollout, now)
    verdict = judge(rollout.strategy, rollout.guards, candidate, stable)
    evidence = verdict.evidence(candidate, stable)
    for side, version in (("candidate", rollout.candidate), ("stable", rollout.stable)):  # numbers, not row ids
        evidence[side].update(version=version.version, version_id=version.id)
    if verdict.outcome == "fail":
        return _fail(rollout, verdict, evidence, now)
    # A step is over once its judged window (settle and flush lag left out) is a whole step long.
    if (now - rollout.step_started_at).total_seconds() < rollout.step_seconds + SETTLE_SECONDS + FLUSH_LAG_SECONDS:
        return None
    if verdict.outcome == "thin":
        return _hold(rollout, verdict.rule, "Too few requests in the window to judge", evidence)
    return _pass(rollout, evidence, now)


def _windows(rollout: Rollout, now: datetime) -> tuple[windows.Window, windows.Window]:
    start = rollout.step_started_at.timestamp() + SETTLE_SECONDS
    end = now.timestamp() - FLUSH_LAG_SECONDS
    candidate = windows.read(rollout.candidate_id, start, end)
    if rollout.strategy == Strategy.BLUE_GREEN:
        # Stable answers nothing after the switch: it is judged on the same length of time just before.
        switched = rollout.step_started_at.timestamp()
        stable = windows.read(rollout.stable_id, switched - rollout.step_seconds, switched)
    else:
        stable = windows.read(rollout.stable_id, start, end)
    return candidate, stable


def unloaded_by(candidate_id: int) -> tuple[list[str], dict[str, list[int]]]:
    """Live web workers that have not loaded the candidate (and what every one reported)."""
    live = presence.live()
    missing = [reporter for reporter, loaded in live.items() if candidate_id not in loaded]
    if not live:
        missing = ["(no live web worker has reported)"]
    return missing, {reporter: sorted(loaded) for reporter, loaded in live.items()}


def _weight_at(rollout: Rollout, step: int) -> tuple[int, str]:
    if rollout.strategy == Strategy.CANARY:
        return rollout.steps[step], TrafficMode.SPLIT
    if rollout.strategy == Strategy.BLUE_GREEN:
        return 100, TrafficMode.SPLIT
    return 0, TrafficMode.SHADOW


def _apply(rollout: Rollout, step: int, now: datetime, rule: str, evidence: dict) -> str:
    """Give the candidate the traffic of ``step``, once every live worker has it loaded; else hold."""
    missing, reported = unloaded_by(rollout.candidate_id)
    if missing:
        return _hold(rollout, "candidate_not_loaded", f"Not loaded by {', '.join(missing)}",
                     {**evidence, "presence": reported}, kind=EventKind.WAITING)
    weight, mode = _weight_at(rollout, step)
    traffic_split_set(actor=None, model=rollout.model, alias=rollout.alias, candidate=rollout.candidate,
                      weight=weight, mode=mode, context={"rollout": rollout.id, "decision": rule})
    before, rollout.step, rollout.weight, rollout.step_started_at = rollout.weight, step, weight, now
    rollout.save(update_fields=["weight", "step", "step_started_at", "updated_at"])
    event_record(rollout, EventKind.ADVANCED, rule=rule, weight_before=before,
                 message=f"{mode} {weight}%" if mode == TrafficMode.SPLIT else "shadowing every request",
                 evidence={**evidence, "presence": reported})
    return "advanced"


def _first_traffic(rollout: Rollout, now: datetime) -> str:
    return _apply(rollout, 0, now, "candidate_loaded_everywhere", {})


def _pass(rollout: Rollout, evidence: dict, now: datetime) -> str:
    if rollout.strategy == Strategy.CANARY and rollout.step + 1 < len(rollout.steps):
        return _apply(rollout, rollout.step + 1, now, "guards_hold", evidence)
    if rollout.strategy == Strategy.SHADOW:
        traffic_split_clear(actor=None, model=rollout.model, alias=rollout.alias,
                            context={"rollout": rollout.id, "decision": "completed"})
        message = "The candidate agreed with stable; the alias is unchanged (shadow never moves it)"
    else:
        traffic_split_promote(actor=None, model=rollout.model, alias=rollout.alias,
                              context={"rollout": rollout.id, "decision": "completed"})
        message = f"Version {rollout.candidate.version} now serves {rollout.alias!r}"
    return _finish(rollout, Status.COMPLETED, EventKind.COMPLETED, "guards_hold", message, evidence,
                   weight=100 if rollout.strategy != Strategy.SHADOW else 0)


def _fail(rollout: Rollout, verdict: Verdict, evidence: dict, now: datetime) -> str:
    traffic_split_clear(actor=None, model=rollout.model, alias=rollout.alias,
                        context={"rollout": rollout.id, "decision": verdict.rule})
    if rollout.strategy == Strategy.SHADOW:
        return _finish(rollout, Status.ABORTED, EventKind.ABORTED, verdict.rule,
                       "The candidate failed its shadow guards", evidence)
    return _finish(rollout, Status.ROLLED_BACK, EventKind.ROLLED_BACK, verdict.rule,
                   "All traffic back to stable", evidence)


def _hold(rollout: Rollout, rule: str, message: str, evidence: dict, kind: str = EventKind.HELD) -> str:
    if not is_repeat(rollout, kind, rule):
        event_record(rollout, kind, rule=rule, message=message, evidence=evidence)
    return "held"


def _abort_changed(rollout: Rollout, alias: ModelAlias | None) -> str:
    """Someone moved or deleted the alias by hand: the rollout no longer describes it, so it stops."""
    if alias is not None and alias.candidate_version_id == rollout.candidate_id:
        traffic_split_clear(actor=None, model=rollout.model, alias=rollout.alias,
                            context={"rollout": rollout.id, "decision": "alias_changed"})
    return _finish(rollout, Status.ABORTED, EventKind.ABORTED, "alias_changed",
                   "The alias was moved, deleted or its split changed outside the rollout", {})


def _finish(rollout: Rollout, status: str, kind: str, rule: str, message: str, evidence: dict,
            weight: int = 0) -> str:
    before = rollout.weight
    rollout.status, rollout.weight, rollout.finished_at = status, weight, timezone.now()
    rollout.save(update_fields=["status", "weight", "finished_at", "updated_at"])
    event_record(rollout, kind, rule=rule, message=message, evidence=evidence, weight_before=before)
    return str(status)
