"""Uploads whose format check would cost too much, or that reach outside their file, are 400 and leave nothing."""

import hashlib
import re
import tracemalloc
from pathlib import Path

import onnx
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import make_version, stored_files
from modelkit.tests.test_bounded_formats import many_entries_zip
from modelkit.tests.test_onnx_external_data import add_model, external
from registry import services
from registry.artifacts import artifact_storage
from registry.models import ModelVersion
from registry.services.versions import _check_format
from registry.uploads import uploaded_file_from_bytes

URL = "/api/v1/models/iris/versions"
ABSOLUTE = re.compile(r"(?<![\w.])/[\w.-]+/")


def upload(client, data: bytes, name: str = "model.bin"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_a_zip_of_200k_entries_is_400_and_leaves_nothing(as_user, maintainer, model, artifact_root):
    response = upload(as_user(maintainer), many_entries_zip(200_000), "model.skops")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "archive_too_large" and error["field"] == "file" and "200000 entries" in error["message"]
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


def test_the_format_check_of_that_zip_is_bounded(maintainer):
    """The whole upload-side check, in memory: refusing costs kilobytes (zipfile alone: ~94 MiB)."""
    with uploaded_file_from_bytes("model.skops", many_entries_zip(200_000)) as upload_file:
        tracemalloc.start()
        try:
            _check_format(maintainer, upload_file)
        except Exception as exc:
            refusal = exc
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert refusal.code == "archive_too_large"
    assert peak < 4 * 1024 * 1024, f"{peak / 2**20:.1f} MiB"


def test_an_onnx_file_with_external_data_is_400_and_leaves_nothing(as_user, maintainer, model, artifact_root,
                                                                   tmp_path):
    response = upload(as_user(maintainer), external(add_model(), tmp_path), "model.onnx")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "external_data" and error["field"] == "file" and "'weights'" in error["message"]
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


def test_a_self_contained_onnx_file_is_accepted(as_user, maintainer, model):
    assert upload(as_user(maintainer), add_model().SerializeToString(), "model.onnx").status_code == 201


def test_a_stored_file_with_external_data_fails_validation_without_reading_neighbours(model, owner, tmp_path):
    """A file stored before the upload check (or changed since) is refused when loaded, and says no path."""
    version = make_version(model, owner, add_model().SerializeToString(), validate=False)
    stored = Path(artifact_storage().path(version.storage_key))
    # Point its tensor at a neighbour in the same folder, as an attacker would.
    neighbour = stored.parent / "neighbour.bin"
    neighbour.write_bytes(b"\0" * 64)
    proto = add_model()
    onnx.save_model(proto, str(tmp_path / "x.onnx"), save_as_external_data=True, location="neighbour.bin",
                    size_threshold=0)
    data = (tmp_path / "x.onnx").read_bytes()
    stored.write_bytes(data)
    ModelVersion.objects.filter(pk=version.pk).update(sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    version = services.version_validate(version_id=version.id)
    assert version.status == "failed"
    assert "external data" in version.status_message
    assert str(stored.parent) not in version.status_message and not ABSOLUTE.search(version.status_message)


def test_status_messages_name_no_server_path(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0][:200])  # onnxruntime's own error names the file
    assert version.status == "failed" and "onnxruntime cannot load" in version.status_message
    assert not ABSOLUTE.search(version.status_message), version.status_message
    graph_without_input = b"\x08\x07\x12\x04test"  # well-formed, no graph: onnxruntime says "Load model from <path>"
    version = make_version(model, owner, graph_without_input)
    assert version.status == "failed" and not ABSOLUTE.search(version.status_message), version.status_message
