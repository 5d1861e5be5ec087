"""Reads that matter: visibility and lookups by name, number and alias."""

from django.db.models import QuerySet

from core.errors import NotFound
from registry.models import AuditEvent, ModelAlias, ModelVersion, RegisteredModel, Team
from registry.permissions import User, require_role


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
