"""What people do to a running rollout: pause, resume, promote now, roll back now, abort. Each one audited.

Each takes the rollout's row lock, like the tick, so a human action and a beat decision apply one
after the other and the second sees what the first did.
"""

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict
from registry.permissions import User
from registry.services.traffic import traffic_split_clear, traffic_split_promote
from rollouts.models import ACTIVE, EventKind, Rollout, Status
from rollouts.services.events import audit_action, event_record


def _locked(rollout: Rollout, allowed: tuple[str, ...], action: str) -> Rollout:
    rollout = (Rollout.objects.select_for_update(of=("self",)).select_related("model__team", "candidate", "stable")
               .get(pk=rollout.pk))
    if rollout.status not in allowed:
        raise Conflict(f"Cannot {action} a rollout that is {rollout.status}", field="status",
                       code="rollout_not_active" if rollout.status not in ACTIVE else "conflict")
    return rollout


def _done(rollout: Rollout, actor: User, ip: str | None, action: str, kind: str, status: str, weight: int,
          message: str) -> Rollout:
    before = rollout.weight
    rollout.status, rollout.weight = status, weight
    if status not in ACTIVE:
        rollout.finished_at = timezone.now()
    rollout.save(update_fields=["status", "weight", "step_started_at", "finished_at", "updated_at"])
    event_record(rollout, kind, actor=actor, rule=f"manual_{action}", message=message, weight_before=before)
    audit_action(rollout, action, actor=actor, ip=ip)
    return rollout


@transaction.atomic
def rollout_pause(*, actor: User, rollout: Rollout, reason: str = "", ip: str | None = None) -> Rollout:
    """The split stays as it is and the tick leaves the rollout alone until it is resumed."""
    rollout = _locked(rollout, (Status.RUNNING,), "pause")
    return _done(rollout, actor, ip, "pause", EventKind.PAUSED, Status.PAUSED, rollout.weight, reason)


@transaction.atomic
def rollout_resume(*, actor: User, rollout: Rollout, reason: str = "", ip: str | None = None) -> Rollout:
    """The current step starts over: what happened while paused is not judged as part of it."""
    rollout = _locked(rollout, (Status.PAUSED,), "resume")
    if rollout.step_started_at is not None:
        rollout.step_started_at = timezone.now()
    return _done(rollout, actor, ip, "resume", EventKind.RESUMED, Status.RUNNING, rollout.weight, reason)


def _ending(action: str, kind: str, status: str, change: Callable[..., object], weight: int) -> Callable[..., Rollout]:
    @transaction.atomic
    def end(*, actor: User, rollout: Rollout, reason: str = "", ip: str | None = None) -> Rollout:
        rollout = _locked(rollout, ACTIVE, action)
        change(actor=actor, model=rollout.model, alias=rollout.alias,
               context={"rollout": rollout.id, "decision": f"manual_{action}"}, ip=ip)
        return _done(rollout, actor, ip, action, kind, status, weight, reason)

    end.__name__ = f"rollout_{action}"
    return end


# Promote now: the candidate takes the alias at once (the approval was checked at start).
rollout_promote = _ending("promote", EventKind.COMPLETED, Status.COMPLETED, traffic_split_promote, 100)
# Roll back now / abort: all traffic back to stable; "rolled back" blames the candidate, "aborted" does not.
rollout_rollback = _ending("rollback", EventKind.ROLLED_BACK, Status.ROLLED_BACK, traffic_split_clear, 0)
rollout_abort = _ending("abort", EventKind.ABORTED, Status.ABORTED, traffic_split_clear, 0)
