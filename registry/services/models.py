from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from core.errors import Conflict, ModelyardError
from registry.models import NAME_VALIDATOR, ModelVersion, RegisteredModel, Team, default_protected_aliases
from registry.permissions import User
from registry.services.audit import audit_record

MAX_CACHE_SECONDS = 86_400


def _check_name(name: str) -> None:
    try:
        NAME_VALIDATOR(name)
    except ValidationError as exc:
        raise ModelyardError(exc.messages[0], field="name") from None


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# What each updatable field must hold. The API serializer checks the same; the console and the shell
# reach the service without it, so the service is where the rule lives.
_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (lambda v: isinstance(v, str), "must be a string"),
    "team": (lambda v: isinstance(v, Team) and v.pk is not None, "must be an existing team"),
    "description": (lambda v: isinstance(v, str), "must be a string"),
    "tags": (lambda v: isinstance(v, dict), "must be a JSON object"),
    "protected_aliases": (_is_str_list, "must be a list of alias names"),
    "response_cache_seconds": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_CACHE_SECONDS,
        f"must be a whole number of seconds from 0 to {MAX_CACHE_SECONDS}",
    ),
}


def _check_changes(changes: dict[str, Any]) -> None:
    for field, value in changes.items():
        if field not in _CHECKS:
            raise ModelyardError(f"{field!r} cannot be changed", field=field)
        check, rule = _CHECKS[field]
        if not check(value):
            raise ModelyardError(f"{field} {rule}", field=field)
    if "name" in changes:
        _check_name(changes["name"])


def _recorded(value: Any) -> Any:
    """Audit rows hold JSON: a team is recorded by its slug."""
    return value.slug if isinstance(value, Team) else value


def model_create(
    *, actor: User, team: Team, name: str, description: str = "", tags: dict[str, Any] | None = None,
    protected_aliases: list[str] | None = None, ip: str | None = None,
) -> RegisteredModel:
    """``protected_aliases`` defaults to the model's default (production). The API does not offer it: a
    maintainer's new model is protected; changing the list later is an owner's audited decision."""
    _check_name(name)
    protected = default_protected_aliases() if protected_aliases is None else protected_aliases
    _check_changes({"protected_aliases": protected})
    try:
        with transaction.atomic():
            model = RegisteredModel.objects.create(
                team=team, name=name, description=description, tags=tags or {}, protected_aliases=protected,
                created_by=actor,
            )
            audit_record(actor=actor, action="model.create", target=f"model:{name}", team=team,
                         after={"description": description, "tags": tags or {}, "protected_aliases": protected},
                         ip=ip)
    except IntegrityError:
        raise Conflict(f"A model named {name!r} already exists", field="name") from None
    return model


@transaction.atomic
def model_update(
    *, actor: User, model: RegisteredModel, changes: dict[str, Any], ip: str | None = None
) -> RegisteredModel:
    """Change a model's fields, including its name (a rename) and its team (a move between teams).

    A move is recorded for both teams, so each sees in its own audit log that the model came or went.
    """
    _check_changes(changes)
    model = RegisteredModel.objects.select_for_update().select_related("team").get(pk=model.pk)
    old_name, old_team = model.name, model.team
    if changes.get("name", old_name) != old_name:
        _check_name_free(changes["name"])
    before = {field: _recorded(getattr(model, field)) for field in changes}
    for field, value in changes.items():
        setattr(model, field, value)
    try:
        with transaction.atomic():  # a savepoint: a rename racing another lands here, not in a broken transaction
            model.save(update_fields=[*changes, "updated_at"])
    except IntegrityError:
        raise Conflict(f"A model named {model.name!r} already exists", field="name") from None
    after = {field: _recorded(value) for field, value in changes.items()}
    teams = [model.team] if model.team.pk == old_team.pk else [old_team, model.team]
    for team in teams:
        audit_record(actor=actor, action="model.update", target=f"model:{old_name}", team=team,
                     before=before, after=after, ip=ip)
    return model


def _check_name_free(name: str) -> None:
    if RegisteredModel.objects.filter(name=name).exists():
        raise Conflict(f"A model named {name!r} already exists", field="name")


@transaction.atomic
def model_delete(*, actor: User, model: RegisteredModel, ip: str | None = None) -> None:
    """Delete a model that never had a version (a name taken by mistake, or a push whose file was refused).

    A model with a version, even a deleted one, stays: its history (versions, aliases, promotions,
    rollouts, jobs) is kept, and so is the model. Recorded in the team's audit log.
    """
    model = RegisteredModel.objects.select_for_update().select_related("team").get(pk=model.pk)
    if ModelVersion.objects.filter(model=model).exists():
        raise Conflict(f"Model {model.name!r} has versions; only a model that never had one can be deleted")
    audit_record(actor=actor, action="model.delete", target=f"model:{model.name}", team=model.team,
                 before={"description": model.description, "tags": model.tags,
                         "protected_aliases": model.protected_aliases}, ip=ip)
    try:
        with transaction.atomic():
            model.delete()
    except (ProtectedError, IntegrityError):  # something made meanwhile still points at it
        raise Conflict(f"Model {model.name!r} is in use and cannot be deleted") from None
