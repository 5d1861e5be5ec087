"""model_delete: a model that never had a version can go (audited, its name free again); any other stays."""

import pytest

from conftest import make_version
from core.errors import Conflict
from registry import services
from registry.models import AuditEvent, RegisteredModel
from registry.services.deletion import version_delete


def test_a_model_without_versions_is_deleted_and_audited(model, maintainer):
    services.model_delete(actor=maintainer, model=model, ip="10.0.0.7")
    assert not RegisteredModel.objects.filter(pk=model.pk).exists()
    event = AuditEvent.objects.get(action="model.delete")
    assert (event.target, event.team.slug, event.ip) == ("model:iris", "acme", "10.0.0.7")
    assert event.before["protected_aliases"] == model.protected_aliases
    services.model_create(actor=maintainer, team=model.team, name="iris")  # the name is free again


def test_a_model_with_a_version_stays(model, maintainer, owner, iris_onnx):
    make_version(model, owner, iris_onnx[0])
    with pytest.raises(Conflict):
        services.model_delete(actor=maintainer, model=model)
    assert RegisteredModel.objects.filter(pk=model.pk).exists()
    assert not AuditEvent.objects.filter(action="model.delete").exists()


def test_a_model_whose_only_version_was_deleted_stays(model, maintainer, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0])
    version_delete(actor=owner, version=version)
    with pytest.raises(Conflict):
        services.model_delete(actor=maintainer, model=model)
    assert RegisteredModel.objects.filter(pk=model.pk).exists()
