"""Key rotation in the background: rotate_artifact_key queues the work, a real Celery worker re-seals
every object in an S3 bucket (moto's server) under the new key, and running it again changes nothing."""

import time

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from registry.artifacts import artifact_new_key, artifact_open, artifact_save
from registry.envelope import key_id, new_key, parse_keys
from registry.models import AuditEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
K1, K2 = new_key(), new_key()


@pytest.fixture
def worker_env(s3_storage) -> dict[str, str]:
    return {**s3_storage.env(), "MODELYARD_ARTIFACT_KEYS": f"k2:{K2},k1:{K1}"}


def wait_for_events(count: int, timeout: float = 60.0) -> AuditEvent:
    deadline = time.monotonic() + timeout
    while AuditEvent.objects.filter(action="artifacts.reencrypted").count() < count:
        assert time.monotonic() < deadline, "the worker never finished the rotation"
        time.sleep(0.2)
    return AuditEvent.objects.filter(action="artifacts.reencrypted").latest("id")


def test_a_worker_reseals_the_bucket_under_the_new_key(s3_storage, settings, model, worker, capsys):
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k1:{K1}")
    blobs = {artifact_new_key(model.id): bytes([n]) * (n * 700_000 + 10) for n in range(4)}
    for key, data in blobs.items():
        artifact_save(key, ContentFile(data))
    assert {key_id(s3_storage.raw(key)[:80]) for key in blobs} == {"k1"}

    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k2:{K2},k1:{K1}")
    call_command("rotate_artifact_key")
    assert "Queued re-encryption under key k2" in capsys.readouterr().out
    assert wait_for_events(1).after == {"current": 0, "resealed": 4, "tampered": 0, "unknown_key": 0, "missing": 0,
                                  "key_id": "k2"}
    assert {key_id(s3_storage.raw(key)[:80]) for key in blobs} == {"k2"}

    call_command("rotate_artifact_key")  # idempotent: a second run only looks
    assert wait_for_events(2).after["current"] == 4
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k2:{K2}")
    for key, data in blobs.items():
        with artifact_open(key) as handle:
            assert handle.read() == data
