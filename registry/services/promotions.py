"""Promotion requests: four-eyes approval of alias moves.

A maintainer asks for an alias to point at a ready version (``promotion_request``); a maintainer or
owner of the team who is not the requester decides (``promotion_approve`` / ``promotion_reject``); the
requester may withdraw it (``promotion_cancel``). Staff count as owners, and four eyes still means two
people: nobody decides their own request.

Every decision locks the model row first (as ``alias_set`` does) and then the request row, so two
decisions, two requests on one alias, or a decision and an alias move apply one after the other; the
one that comes second sees the first and answers 409.

Purposes. ``move``: the approval moves the alias in the same transaction, with its ``alias.set``
event (``after.promotion`` names the request). ``rollout``: the approval moves nothing; it lets one
rollout of that version on that alias start, which takes it with ``promotion_consume`` (once) and moves
the alias when it completes. The API takes both (``purpose``, default ``move``).
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden, ModelyardError
from registry.models import (
    ModelAlias,
    ModelVersion,
    PromotionPurpose,
    PromotionRequest,
    PromotionStatus,
    RegisteredModel,
    Role,
    VersionStatus,
)
from registry.permissions import User, require_role
from registry.selectors import promotion_is_current
from registry.services.aliases import _alias_move, _check_alias_name, _locked_model, _promotion_stale
from registry.services.audit import audit_record
from registry.services.service_tokens import refuse_service_account

REASON_MAX_CHARS = 2000


def _check_reason(reason: object, *, required: bool) -> str:
    if not isinstance(reason, str) or "\x00" in reason or len(reason) > REASON_MAX_CHARS:
        raise ModelyardError(f"reason must be text of at most {REASON_MAX_CHARS} characters", field="reason")
    if required and not reason.strip():
        raise ModelyardError("Give a reason", field="reason")
    return reason.strip()


def _ready(version: ModelVersion) -> ModelVersion:
    """Lock the version row and check it is ready (an archive cannot commit meanwhile)."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.READY:
        raise Conflict(f"Version {version.version} is {version.status}; only ready versions can be promoted",
                       field="version", code="version_not_ready")
    return version


def _alias_now(model: RegisteredModel, name: str) -> ModelAlias | None:
    return ModelAlias.objects.filter(model=model, name=name).select_related("version").first()


def _stale(promotion: PromotionRequest) -> Conflict:
    return Conflict(f"The alias {promotion.alias!r} has moved since promotion request {promotion.pk} was made; "
                    "its review no longer describes the change: make a new request", code="stale")


def _record(actor: User, model: RegisteredModel, promotion: PromotionRequest, action: str, ip: str | None,
            **after: object) -> None:
    audit_record(actor=actor, action=action, target=f"model:{model.name}@{promotion.alias}", team=model.team,
                 before={"status": PromotionStatus.OPEN} if action != "promotion.request" else None,
                 after={"id": promotion.pk, "status": promotion.status, **after}, ip=ip)


@transaction.atomic
def promotion_request(*, actor: User, model: RegisteredModel, alias: str, version: ModelVersion, reason: str,
                      purpose: str = PromotionPurpose.MOVE, ip: str | None = None) -> PromotionRequest:
    """Ask for ``alias`` to point at ``version``. 409 if the version is not ready, the alias points there
    already, or another request on the alias is open (one that went stale meanwhile is closed instead)."""
    _check_alias_name(alias)
    reason = _check_reason(reason, required=True)
    if purpose not in PromotionPurpose.values:
        raise ModelyardError(f"purpose must be one of {', '.join(PromotionPurpose.values)}", field="purpose")
    if version.model_id != model.pk:
        raise ModelyardError("The version belongs to another model", field="version")
    model = _locked_model(model.pk)
    version = _ready(version)
    current = _alias_now(model, alias)
    if current is not None and current.version_id == version.pk:
        raise Conflict(f"{alias} already points to version {version.version}", field="version",
                       code="already_current")
    _close_or_refuse_open(actor, model, alias, current, ip)
    try:
        with transaction.atomic():  # the constraint is the last line of defence behind the model row lock
            promotion = PromotionRequest.objects.create(
                model=model, alias=alias, version=version, purpose=purpose, reason=reason, requested_by=actor,
                base_version_id=current.version_id if current else None,
                base_moved_at=current.updated_at if current else None)
    except IntegrityError:
        raise Conflict(f"Another promotion request on {alias!r} is open", field="alias",
                       code="promotion_open") from None
    _record(actor, model, promotion, "promotion.request", ip, version=version.version, purpose=purpose,
            reason=reason, current=current.version.version if current else None)
    return promotion


def _close_or_refuse_open(actor: User, model: RegisteredModel, alias: str, current: ModelAlias | None,
                          ip: str | None) -> None:
    waiting = PromotionRequest.objects.filter(model=model, alias=alias, status=PromotionStatus.OPEN).first()
    if waiting is None:
        return
    if promotion_is_current(waiting, current):
        raise Conflict(f"Promotion request {waiting.pk} on {alias!r} is open: it is decided or cancelled "
                       "before another one is made", field="alias", code="promotion_open")
    _promotion_stale(actor, model, waiting, ip)  # its alias moved outside the services: it can never apply


def _locked_open(promotion: PromotionRequest, verb: str) -> tuple[RegisteredModel, PromotionRequest]:
    """Lock the model row, then the request row, and check the request is still open."""
    model = _locked_model(promotion.model_id)
    promotion = PromotionRequest.objects.select_for_update().select_related("version").get(pk=promotion.pk)
    if promotion.status == PromotionStatus.STALE:
        raise _stale(promotion)
    if promotion.status != PromotionStatus.OPEN:
        raise Conflict(f"Promotion request {promotion.pk} is {promotion.status}; only open requests can be {verb}",
                       code="not_open")
    return model, promotion


def _check_reviewer(actor: User, model: RegisteredModel, promotion: PromotionRequest) -> None:
    require_role(actor, model.team_id, Role.MAINTAINER, what=f"Promotion request {promotion.pk} not found")
    refuse_service_account(actor, "decide promotion requests: four eyes means two people")
    if actor.pk == promotion.requested_by_id:
        raise Forbidden("Four eyes: a promotion request is decided by someone other than its requester",
                        code="own_request")


def _decide(actor: User, promotion: PromotionRequest, status: str, reason: str) -> None:
    promotion.status, promotion.decided_by, promotion.decided_at = status, actor, timezone.now()
    promotion.decision_reason = reason
    promotion.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])


@transaction.atomic
def promotion_approve(*, actor: User, promotion: PromotionRequest, reason: str = "",
                      ip: str | None = None) -> PromotionRequest:
    """Approve; a ``move`` request moves its alias in this transaction. 409 if the request is not open
    or stale, or the version is no longer ready; 403 for the requester and for non-maintainers."""
    reason = _check_reason(reason, required=False)
    model, promotion = _locked_open(promotion, "approved")
    _check_reviewer(actor, model, promotion)
    if not promotion_is_current(promotion, _alias_now(model, promotion.alias)):
        raise _stale(promotion)
    _decide(actor, promotion, PromotionStatus.APPROVED, reason)
    _record(actor, model, promotion, "promotion.approve", ip, reason=reason)
    if promotion.purpose == PromotionPurpose.MOVE:
        _alias_move(actor=actor, model=model, name=promotion.alias, version=promotion.version, ip=ip,
                    note={"promotion": promotion.pk})
    else:
        _ready(promotion.version)
    return promotion


@transaction.atomic
def promotion_reject(*, actor: User, promotion: PromotionRequest, reason: str,
                     ip: str | None = None) -> PromotionRequest:
    reason = _check_reason(reason, required=True)
    model, promotion = _locked_open(promotion, "rejected")
    _check_reviewer(actor, model, promotion)
    _decide(actor, promotion, PromotionStatus.REJECTED, reason)
    _record(actor, model, promotion, "promotion.reject", ip, reason=reason)
    return promotion


@transaction.atomic
def promotion_cancel(*, actor: User, promotion: PromotionRequest, reason: str = "",
                     ip: str | None = None) -> PromotionRequest:
    """The requester withdraws their open request (others reject it instead)."""
    reason = _check_reason(reason, required=False)
    model, promotion = _locked_open(promotion, "cancelled")
    if actor.pk != promotion.requested_by_id:
        raise Forbidden("Only the requester cancels a promotion request; reviewers reject it",
                        code="not_requester")
    _decide(actor, promotion, PromotionStatus.CANCELLED, reason)
    _record(actor, model, promotion, "promotion.cancel", ip, reason=reason)
    return promotion


@transaction.atomic
def promotion_consume(*, actor: User, promotion: PromotionRequest, by: str,
                      ip: str | None = None) -> PromotionRequest:
    """For the rollouts app: take an approved ``rollout`` request, once, inside the transaction that starts
    the rollout (``by`` names it, e.g. ``rollout:42``). 409 ``approval_required`` unless the request is
    approved for a rollout and unused; 409 ``stale`` if the alias moved since it was made; the version
    must still be ready."""
    model = _locked_model(promotion.model_id)
    promotion = PromotionRequest.objects.select_for_update().select_related("version").get(pk=promotion.pk)
    if (promotion.purpose, promotion.status) != (PromotionPurpose.ROLLOUT, PromotionStatus.APPROVED):
        raise Conflict(f"Promotion request {promotion.pk} is not an approved rollout request",
                       code="approval_required")
    if promotion.consumed_at is not None:
        raise Conflict(f"Promotion request {promotion.pk} was used by {promotion.consumed_by}", code="consumed")
    if not promotion_is_current(promotion, _alias_now(model, promotion.alias)):
        raise _stale(promotion)
    _ready(promotion.version)
    promotion.consumed_at, promotion.consumed_by = timezone.now(), by[:100]
    promotion.save(update_fields=["consumed_at", "consumed_by"])
    audit_record(actor=actor, action="promotion.consume", target=f"model:{model.name}@{promotion.alias}",
                 team=model.team, after={"id": promotion.pk, "by": promotion.consumed_by}, ip=ip)
    return promotion
