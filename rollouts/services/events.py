"""Rollout events: one row per decision, with the evidence it was taken on; human actions audited too."""

from typing import Any

from registry.permissions import User
from registry.services.audit import audit_record
from rollouts.models import EventKind, Rollout, RolloutEvent


def event_record(rollout: Rollout, kind: str, *, actor: User | None = None, rule: str = "", message: str = "",
                 evidence: dict[str, Any] | None = None, weight_before: int | None = None) -> RolloutEvent:
    """Call inside the transaction of the decision, after the rollout row has its new state."""
    real_actor = actor if actor is not None and actor.is_authenticated else None
    return RolloutEvent.objects.create(
        rollout=rollout, kind=kind, actor=real_actor, step=rollout.step,
        weight_before=rollout.weight if weight_before is None else weight_before, weight_after=rollout.weight,
        rule=rule, message=message, evidence=evidence or {})


def audit_action(rollout: Rollout, action: str, *, actor: User | None, ip: str | None,
                 after: dict[str, Any] | None = None) -> None:
    audit_record(actor=actor, action=f"rollout.{action}", target=f"model:{rollout.model.name}@{rollout.alias}",
                 team=rollout.model.team, ip=ip,
                 after={"rollout": rollout.id, "candidate": rollout.candidate.version, "status": rollout.status,
                        "weight": rollout.weight, **(after or {})})


def last_event(rollout: Rollout) -> RolloutEvent | None:
    return rollout.events.order_by("-at", "-id").first()


def is_repeat(rollout: Rollout, kind: str, rule: str) -> bool:
    """A hold or a wait is recorded once per step and reason, not once per tick."""
    last = last_event(rollout)
    return last is not None and last.kind == kind and last.rule == rule and last.step == rollout.step


__all__ = ["EventKind", "audit_action", "event_record", "is_repeat", "last_event"]
