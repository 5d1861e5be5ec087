"""The traffic split of an alias: which candidate shares its traffic, with what weight, in which mode.

Rollouts (the ``rollouts`` app) move weights only through these functions. Each change locks the
alias row, is audited as ``alias.traffic`` (``alias.set`` when the candidate takes the alias over) in
the same transaction, and reaches every web process through the bus (the alias row's signal).
The audit rows carry the whole split, so the timeline can replay what served the alias when.
"""

from typing import Any

from django.db import transaction

from core.errors import Conflict, ModelyardError, NotFound
from registry.models import ModelAlias, ModelVersion, RegisteredModel, TrafficMode, VersionStatus
from registry.permissions import User
from registry.services.audit import audit_record


def split_state(alias: ModelAlias) -> dict[str, Any]:
    """What the alias serves, as recorded in audit rows and read back by the timeline."""
    candidate = alias.candidate_version.version if alias.candidate_version_id else None
    return {"version": alias.version.version, "candidate": candidate,
            "weight": alias.candidate_weight if candidate else 0, "mode": alias.traffic_mode}


def _locked_alias(model: RegisteredModel, name: str) -> ModelAlias:
    alias = (ModelAlias.objects.select_for_update(of=("self",)).select_related("version", "candidate_version")
             .filter(model=model, name=name).first())
    if alias is None:
        raise NotFound(f"Model {model.name!r} has no alias {name!r}", field="alias")
    return alias


def _check_weight(weight: int, mode: str) -> None:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
        raise ModelyardError("weight must be a whole number from 0 to 100", field="weight")
    if mode not in TrafficMode.values:
        raise ModelyardError(f"mode must be one of {', '.join(TrafficMode.values)}", field="mode")


def _audit(actor: User | None, model: RegisteredModel, alias: ModelAlias, action: str, before: dict[str, Any],
           context: dict[str, Any] | None, ip: str | None) -> None:
    after = {**split_state(alias), **(context or {})}
    audit_record(actor=actor, action=action, target=f"model:{model.name}@{alias.name}", team=model.team,
                 before=before, after=after, ip=ip)


@transaction.atomic
def traffic_split_set(*, actor: User | None, model: RegisteredModel, alias: str, candidate: ModelVersion,
                      weight: int, mode: str = TrafficMode.SPLIT, context: dict[str, Any] | None = None,
                      ip: str | None = None) -> ModelAlias:
    """Send ``weight`` percent of the alias's callers (or, in shadow mode, a copy of every request) to ``candidate``."""
    _check_weight(weight, mode)
    row = _locked_alias(model, alias)
    candidate = ModelVersion.objects.select_for_update().get(pk=candidate.pk)
    if candidate.model_id != model.id:
        raise ModelyardError("The candidate belongs to another model", field="version")
    if candidate.status != VersionStatus.READY:
        raise Conflict(f"Version {candidate.version} is {candidate.status}; only ready versions can take traffic",
                       field="version", code="version_not_ready")
    if candidate.id == row.version_id:
        raise Conflict(f"Version {candidate.version} already serves {alias!r}", field="version")
    before = split_state(row)
    row.candidate_version, row.candidate_weight, row.traffic_mode = candidate, weight, mode
    row.save(update_fields=["candidate_version", "candidate_weight", "traffic_mode", "updated_at"])
    _audit(actor, model, row, "alias.traffic", before, context, ip)
    return row


@transaction.atomic
def traffic_split_clear(*, actor: User | None, model: RegisteredModel, alias: str,
                        context: dict[str, Any] | None = None, ip: str | None = None) -> ModelAlias:
    """All traffic back to the alias's version; the candidate gets nothing, not even shadow copies."""
    row = _locked_alias(model, alias)
    before = split_state(row)
    row.candidate_version, row.candidate_weight, row.traffic_mode = None, 0, TrafficMode.SPLIT
    row.save(update_fields=["candidate_version", "candidate_weight", "traffic_mode", "updated_at"])
    _audit(actor, model, row, "alias.traffic", before, context, ip)
    return row


@transaction.atomic
def traffic_split_promote(*, actor: User | None, model: RegisteredModel, alias: str,
                          context: dict[str, Any] | None = None, ip: str | None = None) -> ModelAlias:
    """The candidate takes the alias over (the old version is remembered as the fallback); the split ends.

    The approval a protected alias needs was checked when the rollout started: this is its completion.
    """
    row = _locked_alias(model, alias)
    if row.candidate_version_id is None:
        raise Conflict(f"Alias {alias!r} has no candidate to promote", field="alias")
    candidate = ModelVersion.objects.select_for_update().get(pk=row.candidate_version_id)
    if candidate.status != VersionStatus.READY:
        raise Conflict(f"Version {candidate.version} is {candidate.status}; only ready versions can take an alias",
                       field="version", code="version_not_ready")
    before = split_state(row)
    row.previous_version, row.version = row.version, candidate
    row.candidate_version, row.candidate_weight, row.traffic_mode = None, 0, TrafficMode.SPLIT
    row.save(update_fields=["previous_version", "version", "candidate_version", "candidate_weight",
                            "traffic_mode", "updated_at"])
    _audit(actor, model, row, "alias.set", before, context, ip)
    return row
