import threading

import pytest
from django.db import connection

from conftest import make_version, stored_files
from core.errors import Forbidden, ModelyardError
from registry import services
from registry.models import AuditEvent, ModelVersion
from registry.uploads import uploaded_file_from_bytes


def test_versions_are_numbered_from_one_with_hash_size_and_audit(model, owner, iris_onnx, artifact_root):
    first = make_version(model, owner, iris_onnx[0], validate=False)
    second = make_version(model, owner, iris_onnx[0], validate=False)
    assert (first.version, second.version) == (1, 2)
    assert first.format == "onnx" and first.size_bytes == len(iris_onnx[0]) and len(first.sha256) == 64
    assert first.storage_key != second.storage_key
    assert len(stored_files(artifact_root)) == 2
    assert AuditEvent.objects.filter(action="version.create").count() == 2


def test_client_filename_is_metadata_only(model, owner, iris_onnx, artifact_root):
    version = make_version(model, owner, iris_onnx[0], filename="../../etc/passwd", validate=False)
    assert ".." not in version.storage_key and version.storage_key.startswith(f"models/{model.id}/")
    (stored,) = stored_files(artifact_root)
    assert artifact_root in stored.parents


def test_a_wrong_declared_sha256_keeps_nothing(model, owner, iris_onnx, artifact_root):
    with pytest.raises(ModelyardError) as caught:
        make_version(model, owner, iris_onnx[0], sha256="0" * 64)
    assert caught.value.field == "sha256"
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


def test_unknown_bytes_are_refused_before_storage(model, owner, artifact_root):
    with pytest.raises(ModelyardError, match="not ONNX"):
        make_version(model, owner, b"just some text, not a model")
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


def test_pickle_is_refused_when_the_deployment_disables_it(model, owner, iris_pickle, artifact_root, settings):
    settings.MODELYARD_ALLOW_PICKLE = False
    with pytest.raises(Forbidden, match="disabled"):
        make_version(model, owner, iris_pickle, filename="model.onnx")
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


def test_pickle_needs_the_trusted_publisher_permission(model, owner, iris_pickle, artifact_root, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    with pytest.raises(Forbidden, match="trusted publishers"):
        make_version(model, owner, iris_pickle)
    assert stored_files(artifact_root) == []


def test_a_trusted_publisher_may_upload_pickle_when_enabled(model, owner, iris_joblib, settings):
    from django.contrib.auth.models import Permission

    settings.MODELYARD_ALLOW_PICKLE = True
    owner.user_permissions.add(Permission.objects.get(codename="publish_pickle"))
    owner = type(owner).objects.get(pk=owner.pk)  # drop the cached permissions
    version = make_version(model, owner, iris_joblib)
    assert version.format == "joblib" and version.status == "ready", version.status_message


def test_a_failing_row_insert_removes_the_stored_file(model, owner, iris_onnx, artifact_root, monkeypatch):
    from registry.services import versions

    def broken_audit(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(versions, "audit_record", broken_audit)
    with pytest.raises(RuntimeError):
        make_version(model, owner, iris_onnx[0], validate=False)
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


@pytest.mark.parametrize("field,value", [
    ("metrics", {"accuracy": "high"}), ("lineage", {"favourite_colour": "blue"}), ("tags", ["a"]),
    ("signature", {"inputs": {"dtype": "complex128"}}), ("sha256", "xyz"),
])
def test_bad_metadata_is_refused_naming_the_field(model, owner, iris_onnx, artifact_root, field, value):
    with pytest.raises(ModelyardError) as caught:
        make_version(model, owner, iris_onnx[0], **{field: value})
    assert caught.value.field == field
    assert stored_files(artifact_root) == []


def test_lineage_keeps_every_known_field(model, owner, iris_onnx):
    lineage = {"source_run": "4f1c0ffee", "source": "runs:/4f1c0ffee/model", "git_commit": "abc123",
               "dataset_hash": "sha256:00", "parent_version": 1}
    assert make_version(model, owner, iris_onnx[0], validate=False, lineage=lineage).lineage == lineage


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_get_distinct_numbers(iris_onnx, artifact_root):
    from registry.tests.factories import RegisteredModelFactory, UserFactory

    actor, model = UserFactory(), RegisteredModelFactory()
    numbers, errors = [], []

    def upload() -> None:
        try:
            with uploaded_file_from_bytes("m.onnx", iris_onnx[0]) as handle:
                version = services.version_create(actor=actor, model=model, upload=handle,
                                                  meta=services.VersionMetadata())
            numbers.append(version.version)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
