from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.errors import Conflict, ModelyardError
from registry.models import NAME_VALIDATOR, RegisteredModel, Team
from registry.permissions import User
from registry.services.audit import audit_record


def _check_name(name: str) -> None:
    try:
        NAME_VALIDATOR(name)
    except ValidationError as exc:
        raise ModelyardError(exc.messages[0], field="name") from None


def model_create(
    *, actor: User, team: Team, name: str, description: str = "", tags: dict[str, Any] | None = None,
    ip: str | None = None,
) -> RegisteredModel:
    _check_name(name)
    try:
        with transaction.atomic():
            model = RegisteredModel.objects.create(
                team=team, name=name, description=description, tags=tags or {}, created_by=actor
            )
            audit_record(actor=actor, action="model.create", target=f"model:{name}", team=team,
                         after={"description": description, "tags": tags or {}}, ip=ip)
    except IntegrityError:
        raise Conflict(f"A model named {name!r} already exists", field="name") from None
    return model


@transaction.atomic
def model_update(
    *, actor: User, model: RegisteredModel, changes: dict[str, Any], ip: str | None = None
) -> RegisteredModel:
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    before = {field: getattr(model, field) for field in changes}
    for field, value in changes.items():
        setattr(model, field, value)
    model.save(update_fields=[*changes, "updated_at"])
    audit_record(actor=actor, action="model.update", target=f"model:{model.name}", team=model.team,
                 before=before, after=changes, ip=ip)
    return model
