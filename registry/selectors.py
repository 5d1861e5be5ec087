"""Reads that matter: visibility and lookups by name, number and alias."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import NotFound
from registry.models import (
    AuditEvent,
    ModelAlias,
    ModelVersion,
    PromotionPurpose,
    PromotionRequest,
    PromotionStatus,
    RegisteredModel,
    ServiceToken,
    Team,
)
from registry.permissions import User, require_role
from registry.tokens import service_last_used


def teams_visible(user: User) -> QuerySet[Team]:
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)


def models_visible(user: User) -> QuerySet[RegisteredModel]:
    return RegisteredModel.objects.filter(team__in=teams_visible(user)).select_related("team")


def model_get_for_user(*, user: User, name: str, role: str) -> RegisteredModel:
    model = RegisteredModel.objects.select_related("team").filter(name=name).first()
    if model is None:
        raise NotFound(f"Model {name!r} not found")
    require_role(user, model.team_id, role, what=f"Model {name!r} not found")
    return model


def version_get(*, model: RegisteredModel, number: int) -> ModelVersion:
    version = ModelVersion.objects.filter(model=model, version=number).select_related("model").first()
    if version is None:
        raise NotFound(f"Model {model.name!r} has no version {number}")
    return version


def alias_get(*, model: RegisteredModel, name: str) -> ModelAlias:
    alias = ModelAlias.objects.filter(model=model, name=name).select_related("version", "version__model").first()
    if alias is None:
        raise NotFound(f"Model {model.name!r} has no alias {name!r}")
    return alias


def audit_visible(user: User) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor", "team")
    return events if user.is_staff else events.filter(team__in=teams_visible(user))


def promotions_visible(user: User) -> QuerySet[PromotionRequest]:
    requests = PromotionRequest.objects.select_related(
        "model__team", "version", "base_version", "requested_by", "decided_by")
    return requests if user.is_staff else requests.filter(model__team__in=teams_visible(user))


def promotion_get_for_user(*, user: User, pk: int, role: str) -> PromotionRequest:
    promotion = promotions_visible(user).filter(pk=pk).first() if user.is_authenticated else None
    if promotion is None:
        raise NotFound(f"Promotion request {pk} not found")
    require_role(user, promotion.model.team_id, role, what=f"Promotion request {pk} not found")
    return promotion


def promotion_is_current(promotion: PromotionRequest, alias: ModelAlias | None) -> bool:
    """True while the alias stands where it stood when the request was made (same version, no move since)."""
    if alias is None:
        return promotion.base_version_id is None
    return (alias.version_id, alias.updated_at) == (promotion.base_version_id, promotion.base_moved_at)


def aliases_now(promotions: Iterable[PromotionRequest]) -> dict[tuple[int, str], ModelAlias | None]:
    """The aliases the requests are about, as they stand now, in one query: {(model id, name): alias or None}."""
    wanted = {(p.model_id, p.alias) for p in promotions}
    if not wanted:
        return {}
    match = Q()
    for model_id, name in wanted:
        match |= Q(model_id=model_id, name=name)
    found = {(a.model_id, a.name): a for a in ModelAlias.objects.filter(match).select_related("version")}
    return {key: found.get(key) for key in wanted}


def promotion_approved_for(*, model: RegisteredModel, alias: str, version: ModelVersion) -> PromotionRequest | None:
    """For the rollouts app: the approved, unused rollout request for this version on this alias, if any.
    Taking it is ``services.promotion_consume`` (which checks all of this again under the lock)."""
    return PromotionRequest.objects.filter(
        model=model, alias=alias, version=version, purpose=PromotionPurpose.ROLLOUT,
        status=PromotionStatus.APPROVED, consumed_at__isnull=True).order_by("-decided_at").first()


def service_tokens_for_team(*, team: Team) -> list[ServiceToken]:
    """A team's service tokens, newest first, revoked ones included, in one query and one cache read.

    Each row carries ``last_used_at`` (to within a minute, from the shared cache; None if never seen) and
    ``state`` ("active", "expired" or "revoked"). Never the secret: nothing stores it.
    """
    return service_tokens_for_teams(team_ids=[team.pk])


def service_tokens_for_teams(*, team_ids: list[int], limit: int = 500) -> list[ServiceToken]:
    """``service_tokens_for_team`` for several teams at once (the console's teams page): still one query."""
    tokens = list(ServiceToken.objects.filter(team_id__in=team_ids)
                  .select_related("team", "account", "created_by", "revoked_by")
                  .order_by("-created_at", "-id")[:limit])
    used = service_last_used([t.jti for t in tokens])
    now = timezone.now()
    for token in tokens:
        token.last_used_at = used.get(token.jti)
        token.state = ("revoked" if token.revoked_at else
                       "expired" if token.expires_at and token.expires_at <= now else "active")
    return tokens
