"""The validation task: a delivery that finds another worker's live lease looks again once the lease can have
run out (the redelivery after a worker was killed mid-validation), instead of leaving the version to the
sweeper; a version that is done answers its status."""

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from conftest import make_version
from registry.models import ModelVersion, VersionStatus
from registry.tasks import version_validate


def test_a_delivery_under_a_live_lease_retries_after_the_lease(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    ModelVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.VALIDATING, validation_lease_owner="other-host:123:abc",
        validation_started_at=timezone.now(), validation_heartbeat_at=timezone.now())
    with pytest.raises(Retry):  # (called directly, Celery raises the retry without sending it)
        version_validate(version.pk)
    assert ModelVersion.objects.get(pk=version.pk).validation_lease_owner == "other-host:123:abc"  # untouched


def test_a_stale_lease_is_taken_over_and_a_done_version_answers_its_status(model, owner, iris_onnx, settings):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.MODELYARD_VALIDATION_LEASE_SECONDS * 2)
    ModelVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.VALIDATING, validation_lease_owner="dead-host:1:x", validation_started_at=long_ago,
        validation_heartbeat_at=long_ago)
    assert version_validate(version.pk) == "ready"
    assert version_validate(version.pk) == "ready"  # idempotent
