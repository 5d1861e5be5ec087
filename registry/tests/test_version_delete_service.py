"""Deleting a version: a tombstone at once, refused while used, files removed after the retention."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import make_version, stored_files
from core.errors import Conflict
from registry.models import AuditEvent, ModelVersion
from registry.services.deletion import version_delete, versions_purge_deleted
from registry.services.usage import _checks, version_use_register


@pytest.fixture
def spare(model, owner, iris_onnx, ready_iris):
    return make_version(model, owner, iris_onnx[0])


def test_a_deleted_version_is_a_tombstone_with_its_files_kept_for_now(maintainer, spare, artifact_root):
    files = stored_files(artifact_root)
    deleted = version_delete(actor=maintainer, version=spare)
    assert deleted.status == "deleted" and deleted.deleted_at is not None
    assert ModelVersion.objects.filter(pk=spare.pk).exists()  # the number is never reused
    assert stored_files(artifact_root) == files
    assert AuditEvent.objects.filter(action="version.delete", target="model:iris/v2").count() == 1


def test_an_aliased_version_cannot_be_deleted(maintainer, ready_iris):
    with pytest.raises(Conflict, match="alias 'production'"):
        version_delete(actor=maintainer, version=ready_iris)
    assert ModelVersion.objects.get(pk=ready_iris.pk).status == "ready"


def test_a_version_an_app_uses_cannot_be_deleted(maintainer, spare):
    def busy(version):
        return ["batch job 7"] if version.pk == spare.pk else []

    version_use_register(busy)
    try:
        with pytest.raises(Conflict, match="batch job 7"):
            version_delete(actor=maintainer, version=spare)
    finally:
        _checks.remove(busy)


def test_a_version_under_validation_cannot_be_deleted(maintainer, model, owner, iris_onnx):
    pending = make_version(model, owner, iris_onnx[0], validate=False)
    with pytest.raises(Conflict) as refused:
        version_delete(actor=maintainer, version=pending)
    assert refused.value.code == "version_busy"


def test_files_go_after_the_retention_and_only_then(maintainer, spare, artifact_root):
    version_delete(actor=maintainer, version=spare)
    assert versions_purge_deleted(retention=timedelta(days=7)) == {"purged": 0}
    ModelVersion.objects.filter(pk=spare.pk).update(deleted_at=timezone.now() - timedelta(days=8))
    before = len(stored_files(artifact_root))
    assert versions_purge_deleted(retention=timedelta(days=7)) == {"purged": 1}
    assert len(stored_files(artifact_root)) == before - 1
    assert ModelVersion.objects.get(pk=spare.pk).purged_at is not None
    assert AuditEvent.objects.filter(action="versions.purge").count() == 1
    assert versions_purge_deleted(retention=timedelta(days=7)) == {"purged": 0}  # once only
