"""Serving sealed artifacts (registry/envelope.py): old keys keep decrypting after a rotation, a key
dropped too early is a retryable 503 (not tampering), and a tampered ciphertext is caught like a
tampered plaintext (serving/tests/test_artifact_integrity.py), on disk storage and on S3."""

import shutil
from pathlib import Path

import pytest

from conftest import make_version
from registry import services
from registry.envelope import new_key, parse_keys
from registry.models import AuditEvent
from serving.runtime_cache import runtimes

K1, K2 = new_key(), new_key()
PREDICT = "/api/v1/models/iris/aliases/production/predict"


@pytest.fixture
def sealed(settings, tmp_path: Path) -> Path:
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k1:{K1}")
    settings.ARTIFACT_CACHE_DIR = tmp_path / "cache"
    return settings.ARTIFACT_CACHE_DIR


def flip_a_byte(data: bytes, at: int = 200) -> bytes:
    body = bytearray(data)
    body[at] ^= 1
    return bytes(body)


def test_old_keys_keep_decrypting_and_a_missing_key_is_503_not_tampering(settings, sealed, model, owner, iris_onnx,
                                                                         as_user, teammate, iris_rows):
    version = make_version(model, owner, iris_onnx[0])
    assert version.status == "ready"
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k2:{K2},k1:{K1}")  # rotated: k2 active, k1 still known
    shutil.rmtree(sealed)
    url = "/api/v1/models/iris/versions/1/predict"
    assert as_user(teammate).post(url, {"inputs": iris_rows}, format="json").status_code == 200

    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k2:{K2}")  # k1 dropped too early
    runtimes.clear()
    shutil.rmtree(sealed)
    response = as_user(teammate).post(url, {"inputs": iris_rows}, format="json")
    assert response.status_code == 503 and response.json()["error"]["code"] == "artifact_key_missing"
    version.refresh_from_db()
    assert version.status == "ready" and not AuditEvent.objects.filter(action="version.integrity_failed").exists()



def test_a_tampered_ciphertext_on_disk_is_quarantined_and_the_alias_falls_back(sealed, as_user, teammate, owner,
                                                                              model, ready_iris, iris_onnx,
                                                                              iris_rows, artifact_root):
    second = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="production", version=second)
    path = artifact_root / second.serving_storage_key
    path.write_bytes(flip_a_byte(path.read_bytes()))
    shutil.rmtree(sealed)  # a machine that has not loaded it yet
    runtimes.clear()
    response = as_user(teammate).post(PREDICT, {"inputs": iris_rows}, format="json")
    assert response.status_code == 200 and response.json()["version"] == 1
    second.refresh_from_db()
    assert second.status == "failed" and "sha256" in second.status_message
    assert AuditEvent.objects.get(action="version.integrity_failed").target == "model:iris/v2"


def test_a_tampered_ciphertext_on_s3_is_caught_too(s3_storage, sealed, as_user, teammate, owner, model, iris_onnx,
                                                   iris_rows):
    version = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="production", version=version)
    s3_storage.put_raw(version.serving_storage_key, flip_a_byte(s3_storage.raw(version.serving_storage_key), -5))
    shutil.rmtree(sealed)
    runtimes.clear()
    response = as_user(teammate).post(PREDICT, {"inputs": iris_rows}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_not_ready"
    version.refresh_from_db()
    assert version.status == "failed" and AuditEvent.objects.filter(action="version.integrity_failed").count() == 1
