"""Nothing stays pending or validating because a broker or a worker failed."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conftest import make_version, stored_files
from registry import services
from registry.models import ModelVersion
from registry.services.validation import MAX_ATTEMPTS, versions_sweep


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_at_upload_keeps_the_version_and_its_file(as_user, maintainer, model, iris_onnx,
                                                                  artifact_root, monkeypatch):
    from registry import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")  # the outage, injected: the broker is outside this process

    monkeypatch.setattr(tasks.version_validate, "delay", broker_down)
    response = as_user(maintainer).post("/api/v1/models/iris/versions",
                                        {"file": SimpleUploadedFile("m.onnx", iris_onnx[0])}, format="multipart")
    assert response.status_code == 201
    assert ModelVersion.objects.get().status == "pending" and len(stored_files(artifact_root)) == 1


def test_the_sweep_requeues_old_pending_versions_and_fails_stuck_ones(model, owner, iris_onnx, monkeypatch):
    from registry import tasks

    queued = []
    monkeypatch.setattr(tasks.version_validate, "delay", queued.append)
    pending = make_version(model, owner, iris_onnx[0], validate=False)
    stuck = make_version(model, owner, iris_onnx[0], validate=False)
    fresh = make_version(model, owner, iris_onnx[0], validate=False)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ModelVersion.objects.filter(pk=pending.pk).update(created_at=an_hour_ago)
    ModelVersion.objects.filter(pk=stuck.pk).update(created_at=an_hour_ago, status="validating")
    result = versions_sweep(pending_after=timedelta(minutes=2), validating_after=timedelta(minutes=30))
    assert result == {"requeued": 1, "failed": 1} and queued == [pending.id]
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == "failed" and "did not finish" in stuck.status_message
    assert fresh.status == "pending"


def test_a_model_that_keeps_killing_the_worker_fails_after_a_few_attempts(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    ModelVersion.objects.filter(pk=version.pk).update(status="validating", validation_attempts=MAX_ATTEMPTS)
    version = services.version_validate(version_id=version.id)
    assert version.status == "failed" and f"{MAX_ATTEMPTS} attempts" in version.status_message
