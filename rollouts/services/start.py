"""Starting a rollout: checks, the approval a protected alias needs, and the candidate announced to workers.

The candidate enters the alias's split at weight 0, so every web worker starts loading it; the beat
tick gives it traffic only once every live worker reports it loaded (services/tick.py).
"""

from typing import Any

from django.db import IntegrityError, transaction

from core.errors import Conflict, ModelyardError
from registry.models import ModelAlias, ModelVersion, RegisteredModel, VersionStatus
from registry.permissions import User
from registry.services.traffic import traffic_split_set
from rollouts.models import ACTIVE, EventKind, Rollout
from rollouts.services import validation
from rollouts.services.approval import require_approval
from rollouts.services.events import audit_action, event_record


def breaking_change(stable: dict[str, Any], candidate: dict[str, Any]) -> str | None:
    """Why the candidate's input signature breaks callers of the stable one, if it does."""
    old, new = stable.get("inputs") or {}, candidate.get("inputs") or {}
    for key in ("features", "dtype", "columns"):
        if old.get(key) != new.get(key):
            return f"input {key} changes from {old.get(key)!r} to {new.get(key)!r}"
    return None


def _candidate(model: RegisteredModel, number: Any) -> ModelVersion:
    if not isinstance(number, int) or isinstance(number, bool):
        raise ModelyardError("version must be a version number", field="version")
    version = ModelVersion.objects.select_for_update().filter(model=model, version=number).first()
    if version is None:
        raise ModelyardError(f"Model {model.name!r} has no version {number}", field="version")
    if version.status != VersionStatus.READY:
        raise Conflict(f"Version {number} is {version.status}; only ready versions can be rolled out",
                       field="version", code="version_not_ready")
    return version


def _alias(model: RegisteredModel, name: Any) -> ModelAlias:
    alias = ModelAlias.objects.select_related("version").filter(model=model, name=name).first() \
        if isinstance(name, str) else None
    if alias is None:
        raise ModelyardError(f"Model {model.name!r} has no alias {name!r}", field="alias")
    return alias


def _check_target(model: RegisteredModel, alias: ModelAlias, candidate: ModelVersion, allow_breaking: bool) -> None:
    if alias.version_id == candidate.id:
        raise Conflict(f"Version {candidate.version} already serves {alias.name!r}", field="version")
    if Rollout.objects.filter(model=model, alias=alias.name, status__in=ACTIVE).exists():
        raise Conflict(f"Alias {alias.name!r} already has a rollout in progress", field="alias",
                       code="rollout_in_progress")
    broken = breaking_change(alias.version.signature, candidate.signature)
    if broken and not allow_breaking:
        raise Conflict(f"The candidate breaks the stable signature ({broken}); send allow_breaking with a reason",
                       field="version", code="breaking_signature")


@transaction.atomic
def rollout_create(*, actor: User, model: RegisteredModel, alias: Any, version: Any, strategy: Any,
                   steps: Any = None, step_seconds: Any = 60, guards: Any = None, allow_breaking: Any = False,
                   reason: Any = "", ip: str | None = None) -> Rollout:
    strategy = validation.check_strategy(strategy)
    steps = validation.check_steps(strategy, steps)
    step_seconds = validation.check_step_seconds(step_seconds)
    guards = validation.check_guards(guards)
    allow_breaking, reason = validation.check_breaking(allow_breaking, reason)
    # One rollout per alias at a time: the model row serialises starts (the constraint is the backstop).
    model = RegisteredModel.objects.select_for_update().select_related("team").get(pk=model.pk)
    target = _alias(model, alias)
    candidate = _candidate(model, version)
    _check_target(model, target, candidate, allow_breaking)
    try:
        with transaction.atomic():
            rollout = Rollout.objects.create(
                model=model, alias=target.name, stable=target.version, candidate=candidate, strategy=strategy,
                steps=steps, step_seconds=step_seconds, guards=guards, allow_breaking=allow_breaking,
                reason=reason, created_by=actor)
    except IntegrityError:
        raise Conflict(f"Alias {target.name!r} already has a rollout in progress", field="alias",
                       code="rollout_in_progress") from None
    # Before the split changes the alias row: an approval is only valid while the alias stands still.
    approval = require_approval(actor=actor, model=model, rollout=rollout, candidate=candidate, ip=ip)
    traffic_split_set(actor=actor, model=model, alias=target.name, candidate=candidate, weight=0,
                      context={"rollout": rollout.id}, ip=ip)
    event_record(rollout, EventKind.STARTED, actor=actor, rule="started", message=reason, evidence={
        "stable": target.version.version, "candidate": candidate.version, "strategy": strategy, "steps": steps,
        "step_seconds": step_seconds, "guards": guards, "approval": approval})
    audit_action(rollout, "start", actor=actor, ip=ip, after={"strategy": strategy, "steps": steps})
    return rollout
