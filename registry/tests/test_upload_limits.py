"""Uploads cut short, too large, too many parts, or hitting a full disk: a 4xx/503, and nothing kept."""

import gc
import io
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from conftest import stored_files
from registry.models import ModelVersion

URL = "/api/v1/models/iris/versions"


def temp_uploads() -> set[str]:
    gc.collect()  # a dropped upload's temp file is removed when its object goes
    return set(os.listdir(settings.FILE_UPLOAD_TEMP_DIR))


class Disconnecting(io.BytesIO):
    """A request body whose client goes away half-way, as gunicorn reports it (an IOError)."""

    def read(self, size: int = -1) -> bytes:
        if self.tell() > len(self.getvalue()) // 2:
            raise OSError("client disconnected")
        return super().read(size if size > 0 else 4096)


def test_a_client_that_disconnects_mid_upload_leaves_nothing(as_user, maintainer, model, iris_onnx, artifact_root):
    before = temp_uploads()
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("m.onnx", iris_onnx[0] * 200)})
    response = as_user(maintainer).generic("POST", URL, body, MULTIPART_CONTENT, **{"wsgi.input": Disconnecting(body)})
    assert response.status_code == 400 and response.json()["error"]["code"] == "upload_incomplete"
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []
    assert temp_uploads() <= before


def test_too_many_form_fields_is_400(as_user, maintainer, model, iris_onnx, artifact_root):
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 5)}
    fields["file"] = SimpleUploadedFile("m.onnx", iris_onnx[0])
    response = as_user(maintainer).post(URL, fields, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_parts"
    assert stored_files(artifact_root) == []


def test_more_than_one_file_is_400(as_user, maintainer, model, iris_onnx, artifact_root):
    files = {"file": SimpleUploadedFile("a.onnx", iris_onnx[0]), "other": SimpleUploadedFile("b.onnx", iris_onnx[0])}
    response = as_user(maintainer).post(URL, files, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_parts"
    assert stored_files(artifact_root) == []


def test_a_declared_content_length_over_the_limit_is_refused_before_reading(as_user, maintainer, model, settings):
    settings.MODELYARD_MAX_UPLOAD_BYTES = 1000
    response = as_user(maintainer).generic("POST", URL, b"", MULTIPART_CONTENT, CONTENT_LENGTH="999999999")
    assert response.status_code == 413


@pytest.fixture
def full_disk(tmp_path: Path, settings):
    """A real 64 KiB filesystem for the artifacts (tmpfs; needs root, which CI has)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    settings.STORAGES = {**settings.STORAGES, "artifacts": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(mount_point)}}}
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_is_503_and_leaves_no_row_and_no_partial_file(as_user, maintainer, model, iris_onnx, full_disk):
    big = iris_onnx[0] + b"\x00" * 200_000  # detected as ONNX from its header, larger than the disk
    response = as_user(maintainer).post(URL, {"file": SimpleUploadedFile("m.onnx", big)}, format="multipart")
    assert response.status_code == 503 and response.json()["error"]["code"] == "storage_unavailable"
    assert not ModelVersion.objects.exists()
    assert stored_files(full_disk) == []
