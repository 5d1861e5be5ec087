from django.db import transaction

from core.errors import Conflict, ModelyardError, NotFound
from registry.models import ModelAlias, ModelVersion, RegisteredModel, VersionStatus
from registry.permissions import User
from registry.services.audit import audit_record


def _check_alias_name(name: str) -> None:
    from django.core.exceptions import ValidationError

    from registry.models import ALIAS_VALIDATOR

    try:
        ALIAS_VALIDATOR(name)
    except ValidationError as exc:
        raise ModelyardError(exc.messages[0], field="alias") from None


@transaction.atomic
def alias_set(*, actor: User, model: RegisteredModel, name: str, version: ModelVersion,
              ip: str | None = None) -> ModelAlias:
    _check_alias_name(name)
    if version.model_id != model.id:
        raise ModelyardError("The version belongs to another model", field="version")
    # Lock the model row so two moves of one alias apply one after the other, each audited, and the
    # version row so an archive cannot commit between the status check and the move.
    RegisteredModel.objects.select_for_update().get(pk=model.pk)
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.READY:
        raise Conflict(f"Version {version.version} is {version.status}; only ready versions can take an alias",
                       field="version", code="version_not_ready")
    alias = ModelAlias.objects.filter(model=model, name=name).first()
    before = {"version": alias.version.version} if alias else None
    if alias is None:
        alias = ModelAlias.objects.create(model=model, name=name, version=version, updated_by=actor)
    elif alias.version_id != version.id:
        alias.previous_version, alias.version, alias.updated_by = alias.version, version, actor
        alias.save(update_fields=["previous_version", "version", "updated_by", "updated_at"])
    audit_record(actor=actor, action="alias.set", target=f"model:{model.name}@{name}", team=model.team,
                 before=before, after={"version": version.version}, ip=ip)
    return alias


@transaction.atomic
def alias_delete(*, actor: User, model: RegisteredModel, name: str, ip: str | None = None) -> None:
    RegisteredModel.objects.select_for_update().get(pk=model.pk)
    alias = ModelAlias.objects.filter(model=model, name=name).select_related("version").first()
    if alias is None:
        raise NotFound(f"Model {model.name!r} has no alias {name!r}")
    before = {"version": alias.version.version}
    alias.delete()
    audit_record(actor=actor, action="alias.delete", target=f"model:{model.name}@{name}", team=model.team,
                 before=before, ip=ip)
