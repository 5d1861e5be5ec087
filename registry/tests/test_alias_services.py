import pytest

from conftest import make_version
from core.errors import Conflict, ModelyardError, NotFound
from registry import services
from registry.models import AuditEvent, ModelAlias


def test_setting_and_moving_an_alias_is_audited_with_before_and_after(model, owner, iris_onnx):
    first = make_version(model, owner, iris_onnx[0])
    second = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="production", version=first)
    services.alias_set(actor=owner, model=model, name="production", version=second)
    assert ModelAlias.objects.get(model=model, name="production").version == second
    moved = AuditEvent.objects.filter(action="alias.set").first()
    assert moved.before == {"version": 1} and moved.after == {"version": 2} and moved.actor == owner


def test_an_alias_cannot_point_at_a_version_that_is_not_ready(model, owner, iris_onnx):
    pending = make_version(model, owner, iris_onnx[0], validate=False)
    with pytest.raises(Conflict):
        services.alias_set(actor=owner, model=model, name="production", version=pending)
    assert not ModelAlias.objects.exists()


@pytest.mark.parametrize("name", ["Production", "", "a" * 60, "../x", "1st"])
def test_alias_names_are_checked(model, owner, iris_onnx, name):
    version = make_version(model, owner, iris_onnx[0])
    with pytest.raises(ModelyardError) as caught:
        services.alias_set(actor=owner, model=model, name=name, version=version)
    assert caught.value.field == "alias"


def test_deleting_a_missing_alias_is_not_found(model, owner):
    with pytest.raises(NotFound):
        services.alias_delete(actor=owner, model=model, name="staging")
