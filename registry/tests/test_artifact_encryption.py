"""Encryption at rest on disk storage (registry/envelope.py): files are sealed when keys are configured,
sha256 stays the plaintext's, old keys keep decrypting, and rotate_artifact_key re-seals in place."""

import hashlib
import shutil
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from conftest import make_version
from registry.artifacts import artifact_local_path, artifact_new_key, artifact_open, artifact_save
from registry.envelope import MAGIC, key_id, new_key, parse_keys
from registry.models import AuditEvent, ModelVersion

K1, K2 = new_key(), new_key()


@pytest.fixture
def sealed(settings, tmp_path: Path) -> Path:
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k1:{K1}")
    settings.ARTIFACT_CACHE_DIR = tmp_path / "cache"
    return settings.ARTIFACT_CACHE_DIR


def stored(artifact_root: Path, key: str) -> bytes:
    return (artifact_root / key).read_bytes()


def test_an_upload_is_sealed_on_disk_and_everything_else_sees_the_plaintext(sealed, as_user, maintainer, model,
                                                                            iris_onnx, artifact_root):
    client = as_user(maintainer)
    response = client.post("/api/v1/models/iris/versions", {"file": SimpleUploadedFile("m.onnx", iris_onnx[0])},
                           format="multipart")
    assert response.status_code == 201, response.content
    version = ModelVersion.objects.get()
    raw = stored(artifact_root, version.storage_key)
    assert raw.startswith(MAGIC) and key_id(raw[:80]) == "k1" and iris_onnx[0][:64] not in raw
    assert version.sha256 == hashlib.sha256(iris_onnx[0]).hexdigest() == response.json()["sha256"]
    download = client.get("/api/v1/models/iris/versions/1/artifact")
    assert b"".join(download.streaming_content) == iris_onnx[0]
    local = artifact_local_path(version.storage_key, version.sha256)
    assert local.is_relative_to(sealed) and local.read_bytes() == iris_onnx[0]


def test_files_from_before_encryption_stay_readable(settings, sealed, model, artifact_root):
    settings.MODELYARD_ARTIFACT_KEYS = {}
    key = artifact_new_key(model.id)
    artifact_save(key, ContentFile(b"written in the clear"))
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k1:{K1}")
    with artifact_open(key) as handle:
        assert handle.read() == b"written in the clear"


def test_rotation_reseals_every_file_in_place_once_and_skips_tampered_ones(settings, sealed, model, owner,
                                                                           iris_skops, artifact_root, capsys):
    version = make_version(model, owner, iris_skops)  # two files: the upload and its ONNX conversion
    settings.MODELYARD_ARTIFACT_KEYS = {}
    clear = artifact_new_key(model.id)
    artifact_save(clear, ContentFile(b"from before encryption"))
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k1:{K1}")
    tampered = artifact_new_key(model.id)
    artifact_save(tampered, ContentFile(b"x" * 5000))
    body = bytearray(stored(artifact_root, tampered))
    body[200] ^= 1
    (artifact_root / tampered).write_bytes(bytes(body))
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k2:{K2},k1:{K1}")

    call_command("rotate_artifact_key", "--wait")
    assert "3 re-sealed, 0 already current, 1 failed authentication" in capsys.readouterr().out
    for key in (version.storage_key, version.serving_storage_key, clear):
        assert key_id(stored(artifact_root, key)[:80]) == "k2"
    assert stored(artifact_root, tampered) == bytes(body)  # the evidence stays
    call_command("rotate_artifact_key", "--wait")
    assert "0 re-sealed, 3 already current, 1 failed" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="artifacts.reencrypted").count() == 2

    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k2:{K2}")  # the old key can go now
    shutil.rmtree(sealed)
    for key, sha in ((version.storage_key, version.sha256), (version.serving_storage_key, version.serving_sha256)):
        assert hashlib.sha256(artifact_local_path(key, sha).read_bytes()).hexdigest() == sha
    with artifact_open(clear) as handle:
        assert handle.read() == b"from before encryption"
    assert not list(artifact_root.rglob(".reseal-*"))


def test_a_download_under_a_dropped_key_is_a_503_before_any_byte(settings, sealed, as_user, viewer, model, owner,
                                                                   iris_onnx):
    make_version(model, owner, iris_onnx[0], validate=False)
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(f"k2:{K2}")
    response = as_user(viewer).get("/api/v1/models/iris/versions/1/artifact")
    assert response.status_code == 503 and response.json()["error"]["code"] == "artifact_key_missing"
    assert "k1" in response.json()["error"]["message"] and K1 not in response.json()["error"]["message"]


def test_rotation_without_keys_is_refused(settings):
    settings.MODELYARD_ARTIFACT_KEYS = {}
    with pytest.raises(CommandError, match="MODELYARD_ARTIFACT_KEYS"):
        call_command("rotate_artifact_key")


def test_validation_fails_a_version_whose_ciphertext_changed_after_upload(sealed, model, owner, iris_onnx,
                                                                          artifact_root):
    from registry import services

    version = make_version(model, owner, iris_onnx[0], validate=False)
    path = artifact_root / version.storage_key
    body = bytearray(path.read_bytes())
    body[-3] ^= 1
    path.write_bytes(bytes(body))
    version = services.version_validate(version_id=version.id)
    assert version.status == "failed" and "does not authenticate" in version.status_message
    assert not list(sealed.rglob("*.part"))  # no half-decrypted copy left in the cache
