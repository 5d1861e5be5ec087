"""version_archive / version_restore: ready versions only, never while aliased, audited, refused twice."""

import pytest

from conftest import make_version
from core.errors import Conflict
from registry import services
from registry.models import AuditEvent, ModelVersion, VersionStatus


@pytest.fixture
def spare(model, owner, iris_onnx) -> ModelVersion:
    """A ready version no alias points at (version 2 when ready_iris is also used)."""
    version = make_version(model, owner, iris_onnx[0])
    assert version.status == VersionStatus.READY, version.status_message
    return version


def test_archiving_a_ready_version_is_audited(spare, maintainer):
    archived = services.version_archive(actor=maintainer, version=spare, ip="10.0.0.7")
    assert archived.status == VersionStatus.ARCHIVED
    assert ModelVersion.objects.get(pk=spare.pk).status == VersionStatus.ARCHIVED
    event = AuditEvent.objects.get(action="version.archive")
    assert (event.actor, event.team, event.ip) == (maintainer, spare.model.team, "10.0.0.7")
    assert event.target == f"model:iris/v{spare.version}"
    assert (event.before, event.after) == ({"status": "ready"}, {"status": "archived"})


def test_an_aliased_version_cannot_be_archived(ready_iris, maintainer):
    with pytest.raises(Conflict) as caught:
        services.version_archive(actor=maintainer, version=ready_iris)
    assert caught.value.code == "version_aliased" and "production" in caught.value.message
    assert ModelVersion.objects.get(pk=ready_iris.pk).status == VersionStatus.READY
    assert not AuditEvent.objects.filter(action="version.archive").exists()


def test_archiving_twice_is_a_conflict_and_records_one_event(spare, maintainer):
    services.version_archive(actor=maintainer, version=spare)
    with pytest.raises(Conflict) as caught:
        services.version_archive(actor=maintainer, version=spare)  # spare is stale: it still says ready
    assert caught.value.code == "already_archived"
    assert AuditEvent.objects.filter(action="version.archive").count() == 1


@pytest.mark.parametrize("status", [VersionStatus.PENDING, VersionStatus.VALIDATING, VersionStatus.FAILED])
def test_only_ready_versions_can_be_archived(model, owner, iris_onnx, status):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    ModelVersion.objects.filter(pk=version.pk).update(status=status)
    with pytest.raises(Conflict) as caught:
        services.version_archive(actor=owner, version=version)
    assert caught.value.code == "version_not_ready"
    assert ModelVersion.objects.get(pk=version.pk).status == status


def test_an_archived_version_cannot_take_an_alias(spare, owner):
    archived = services.version_archive(actor=owner, version=spare)
    with pytest.raises(Conflict) as caught:
        services.alias_set(actor=owner, model=spare.model, name="staging", version=archived)
    assert caught.value.code == "version_not_ready"
    assert not spare.model.aliases.exists()


def test_restoring_brings_it_back_to_ready_and_is_audited(spare, maintainer):
    services.version_archive(actor=maintainer, version=spare)
    restored = services.version_restore(actor=maintainer, version=spare, ip="10.0.0.8")
    assert restored.status == ModelVersion.objects.get(pk=spare.pk).status == VersionStatus.READY
    event = AuditEvent.objects.get(action="version.restore")
    assert (event.before, event.after, event.actor, event.ip) == (
        {"status": "archived"}, {"status": "ready"}, maintainer, "10.0.0.8")
    # Ready again, it can take an alias once more.
    services.alias_set(actor=maintainer, model=spare.model, name="staging", version=restored)


def test_only_archived_versions_can_be_restored(spare, maintainer):
    with pytest.raises(Conflict) as caught:
        services.version_restore(actor=maintainer, version=spare)
    assert caught.value.code == "not_archived"
    assert not AuditEvent.objects.filter(action="version.restore").exists()

