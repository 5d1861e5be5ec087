"""Validation leases: time counts from the claim, a live lease turns duplicates away, a stale one is taken over."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import make_version
from core.errors import Unavailable
from registry import services
from registry.models import AuditEvent, ModelVersion
from registry.services.validation import version_validate_here, versions_sweep

SWEEP = {"pending_after": timedelta(minutes=2), "validating_after": timedelta(minutes=30)}


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    from registry import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.version_validate, "delay", sent.append)
    return sent


def lease(version: ModelVersion, *, created_ago: timedelta, claimed_ago: timedelta, beat_ago: timedelta,
          owner: str = "other-host:4242:abc", attempts: int = 1) -> None:
    now = timezone.now()
    ModelVersion.objects.filter(pk=version.pk).update(
        status="validating", created_at=now - created_ago, validation_started_at=now - claimed_ago,
        validation_heartbeat_at=now - beat_ago, validation_lease_owner=owner, validation_attempts=attempts)


def test_a_backlogged_version_claimed_just_now_is_neither_failed_nor_requeued(model, owner, iris_onnx, queued):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    lease(version, created_ago=timedelta(hours=2), claimed_ago=timedelta(seconds=30), beat_ago=timedelta(seconds=5))
    assert versions_sweep(**SWEEP) == {"requeued": 0, "failed": 0} and queued == []
    version.refresh_from_db()
    assert version.status == "validating" and version.validation_lease_owner == "other-host:4242:abc"


def test_a_validation_claimed_too_long_ago_is_failed(model, owner, iris_onnx, queued):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    lease(version, created_ago=timedelta(hours=2), claimed_ago=timedelta(hours=1), beat_ago=timedelta(seconds=5))
    assert versions_sweep(**SWEEP) == {"requeued": 0, "failed": 1} and queued == []
    version.refresh_from_db()
    assert version.status == "failed" and "did not finish in time" in version.status_message


def test_the_sweep_requeues_a_version_whose_lease_went_stale(model, owner, iris_onnx, queued, settings):
    settings.MODELYARD_VALIDATION_LEASE_SECONDS = 60
    dead = make_version(model, owner, iris_onnx[0], validate=False)
    alive = make_version(model, owner, iris_onnx[0], validate=False)
    lease(dead, created_ago=timedelta(minutes=5), claimed_ago=timedelta(minutes=5), beat_ago=timedelta(minutes=2))
    lease(alive, created_ago=timedelta(minutes=5), claimed_ago=timedelta(minutes=5), beat_ago=timedelta(seconds=10))
    assert versions_sweep(**SWEEP) == {"requeued": 1, "failed": 0} and queued == [dead.id]


def test_a_duplicate_task_under_a_live_lease_does_nothing_and_is_no_attempt(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    lease(version, created_ago=timedelta(minutes=1), claimed_ago=timedelta(seconds=20), beat_ago=timedelta(seconds=1))
    events = AuditEvent.objects.count()
    for _ in range(5):  # more deliveries than the attempt cap
        assert services.version_validate(version_id=version.id).status == "validating"
    version.refresh_from_db()
    assert (version.status, version.validation_attempts) == ("validating", 1)
    assert version.validation_lease_owner == "other-host:4242:abc" and AuditEvent.objects.count() == events


def test_a_stale_lease_is_taken_over_and_counts_as_an_attempt(model, owner, iris_onnx, settings):
    settings.MODELYARD_VALIDATION_LEASE_SECONDS = 60
    version = make_version(model, owner, iris_onnx[0], validate=False)
    lease(version, created_ago=timedelta(minutes=5), claimed_ago=timedelta(minutes=5), beat_ago=timedelta(minutes=2))
    version = services.version_validate(version_id=version.id)
    assert version.status == "ready", version.status_message
    assert version.validation_attempts == 2 and version.validation_lease_owner not in ("", "other-host:4242:abc")


def test_a_first_claim_records_the_lease(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0])
    assert version.status == "ready" and version.validation_attempts == 1
    assert version.validation_started_at is not None and version.validation_heartbeat_at is not None
    assert version.validation_lease_owner.count(":") == 2  # host:pid:claim


def test_a_late_result_from_a_worker_that_lost_its_lease_is_dropped(model, owner, iris_onnx, monkeypatch):
    from registry.services import validation

    version = make_version(model, owner, iris_onnx[0], validate=False)
    real_check = validation._check

    def taken_over_meanwhile(v: ModelVersion):  # another worker takes the version while this one checks
        ModelVersion.objects.filter(pk=v.pk).update(validation_lease_owner="newer:1:xyz")
        return real_check(v)

    monkeypatch.setattr(validation, "_check", taken_over_meanwhile)
    assert services.version_validate(version_id=version.id).status == "validating"


def test_a_storage_outage_during_validation_gives_the_version_back_uncounted(model, owner, iris_onnx, settings,
                                                                             tmp_path):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    settings.ARTIFACT_CACHE_DIR = tmp_path / "cache"
    settings.STORAGES = {**settings.STORAGES, "artifacts": {
        "BACKEND": "registry.tests.storages.UnreachableStorage"}}
    with pytest.raises(Unavailable):
        services.version_validate(version_id=version.id)
    version.refresh_from_db()
    assert (version.status, version.validation_attempts, version.validation_lease_owner) == ("pending", 0, "")


def test_validating_here_waits_for_the_lease_holder_and_takes_over_when_it_dies(model, owner, iris_onnx, settings):
    settings.MODELYARD_VALIDATION_LEASE_SECONDS = 2
    version = make_version(model, owner, iris_onnx[0], validate=False)
    lease(version, created_ago=timedelta(seconds=5), claimed_ago=timedelta(seconds=5), beat_ago=timedelta(seconds=1))
    started = time.monotonic()
    version = version_validate_here(version_id=version.id)
    assert version.status == "ready" and version.validation_attempts == 2
    assert time.monotonic() - started >= 0.9  # it waited for the lease to go stale
