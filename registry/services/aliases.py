"""Moving aliases. A protected alias (``RegisteredModel.protected_aliases``) never moves here: only an
approved promotion request moves it (``registry.services.promotions``), through ``_alias_move``.

Every path that moves an alias (API, console, shell, the demo loader) calls ``alias_set`` or
``alias_delete``, so the rule holds for all of them; ``_alias_move`` is internal to this package.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, ModelyardError, NotFound
from registry.models import ModelAlias, ModelVersion, PromotionRequest, PromotionStatus, RegisteredModel, VersionStatus
from registry.permissions import User
from registry.services.audit import audit_record


def _check_alias_name(name: str) -> None:
    from django.core.exceptions import ValidationError

    from registry.models import ALIAS_VALIDATOR

    try:
        ALIAS_VALIDATOR(name)
    except ValidationError as exc:
        raise ModelyardError(exc.messages[0], field="alias") from None


def _locked_model(model_id: int) -> RegisteredModel:
    """Lock the model row and read it again: its protected list as of now, not as the caller loaded it.

    Every alias move and promotion decision of a model takes this lock first, so they apply one after
    the other; model_update takes it too, so a protection change cannot slip between check and move.
    """
    return RegisteredModel.objects.select_for_update(of=("self",)).select_related("team").get(pk=model_id)


def _refuse_protected(model: RegisteredModel, name: str) -> None:
    if name in model.protected_aliases:
        raise Conflict(f"Alias {name!r} of model {model.name!r} is protected: it moves only by an approved "
                       f"promotion request (POST /api/v1/models/{model.name}/promotions)",
                       field="alias", code="approval_required")


@transaction.atomic
def alias_set(*, actor: User, model: RegisteredModel, name: str, version: ModelVersion,
              ip: str | None = None) -> ModelAlias:
    """Point an unprotected alias at a ready version of the model (409 ``approval_required`` if protected)."""
    _check_alias_name(name)
    if version.model_id != model.id:
        raise ModelyardError("The version belongs to another model", field="version")
    model = _locked_model(model.pk)
    _refuse_protected(model, name)
    return _alias_move(actor=actor, model=model, name=name, version=version, ip=ip)


def _alias_move(*, actor: User, model: RegisteredModel, name: str, version: ModelVersion, ip: str | None,
                note: dict[str, Any] | None = None) -> ModelAlias:
    """Move the alias, audited; the caller holds the model row lock and has applied the protection rule.

    Internal: ``alias_set`` (unprotected aliases) and the promotion services (approved requests) only.
    ``note`` is added to the audit event's ``after`` (the promotion request that moved it).
    """
    # Lock the version row so an archive cannot commit between the status check and the move.
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.READY:
        raise Conflict(f"Version {version.version} is {version.status}; only ready versions can take an alias",
                       field="version", code="version_not_ready")
    alias = ModelAlias.objects.filter(model=model, name=name).select_related("version").first()
    before = {"version": alias.version.version} if alias else None
    moved = alias is None or alias.version_id != version.id
    if alias is None:
        alias = ModelAlias.objects.create(model=model, name=name, version=version, updated_by=actor)
    elif moved:
        alias.previous_version, alias.version, alias.updated_by = alias.version, version, actor
        alias.save(update_fields=["previous_version", "version", "updated_by", "updated_at"])
    if moved:
        _stale_open_requests(actor, model, name, ip)
    audit_record(actor=actor, action="alias.set", target=f"model:{model.name}@{name}", team=model.team,
                 before=before, after={"version": version.version, **(note or {})}, ip=ip)
    return alias


def _stale_open_requests(actor: User, model: RegisteredModel, name: str, ip: str | None) -> None:
    """The alias moved: an open request on it reviewed a change that is no longer the one it would make."""
    for promotion in PromotionRequest.objects.filter(model=model, alias=name, status=PromotionStatus.OPEN):
        _promotion_stale(actor, model, promotion, ip)


def _promotion_stale(actor: User | None, model: RegisteredModel, promotion: PromotionRequest,
                     ip: str | None) -> None:
    """Close an open request as stale, audited; the caller holds the model row lock."""
    promotion.status, promotion.decided_at = PromotionStatus.STALE, timezone.now()
    promotion.save(update_fields=["status", "decided_at"])
    audit_record(actor=actor, action="promotion.stale", target=f"model:{model.name}@{promotion.alias}",
                 team=model.team, before={"status": PromotionStatus.OPEN},
                 after={"id": promotion.pk, "status": PromotionStatus.STALE}, ip=ip)


@transaction.atomic
def alias_delete(*, actor: User, model: RegisteredModel, name: str, ip: str | None = None) -> None:
    """Remove an unprotected alias (409 ``approval_required`` if protected: lift the protection first)."""
    model = _locked_model(model.pk)
    alias = ModelAlias.objects.filter(model=model, name=name).select_related("version").first()
    if alias is None:
        raise NotFound(f"Model {model.name!r} has no alias {name!r}")
    _refuse_protected(model, name)
    before = {"version": alias.version.version}
    alias.delete()
    _stale_open_requests(actor, model, name, ip)
    audit_record(actor=actor, action="alias.delete", target=f"model:{model.name}@{name}", team=model.team,
                 before=before, ip=ip)
