import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import make_version, stored_files
from registry.models import ModelVersion

URL = "/api/v1/models/iris/versions"


def upload(client, data: bytes, name: str = "model.onnx", **fields):
    body = {"file": SimpleUploadedFile(name, data)}
    body.update({k: json.dumps(v) if not isinstance(v, str) else v for k, v in fields.items()})
    return client.post(URL, body, format="multipart")


def test_a_maintainer_uploads_a_version_that_starts_pending(as_user, maintainer, model, iris_onnx):
    response = upload(as_user(maintainer), iris_onnx[0], sha256=hashlib.sha256(iris_onnx[0]).hexdigest(),
                      metrics={"accuracy": 0.97}, lineage={"git_commit": "abc123"}, input_example=iris_onnx[1])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == 1 and body["status"] == "pending" and body["format"] == "onnx"
    assert body["metrics"] == {"accuracy": 0.97} and body["created_by"] == maintainer.username
    assert "storage_key" not in body


def test_client_supplied_server_fields_are_ignored(as_user, maintainer, model, iris_onnx):
    response = upload(as_user(maintainer), iris_onnx[0], version="99", status="ready", storage_key="/etc/x",
                      format="pickle")
    assert response.status_code == 201
    version = ModelVersion.objects.get()
    assert (version.version, version.status, version.format) == (1, "pending", "onnx")
    assert version.storage_key.startswith("models/")


@pytest.mark.parametrize("name", ["../../x.onnx", "/etc/passwd", "..\\..\\x", "%2e%2e%2fx", "a\x00b.onnx"])
def test_hostile_filenames_are_stored_as_metadata_only(as_user, maintainer, model, iris_onnx, artifact_root, name):
    response = upload(as_user(maintainer), iris_onnx[0], name=name)
    assert response.status_code == 201
    (stored,) = stored_files(artifact_root)
    assert artifact_root in stored.parents and ".." not in str(stored.relative_to(artifact_root))


def test_checksum_mismatch_is_400_and_leaves_nothing(as_user, maintainer, model, iris_onnx, artifact_root):
    response = upload(as_user(maintainer), iris_onnx[0], sha256="a" * 64)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "checksum_mismatch"
    assert response.json()["error"]["field"] == "sha256"
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


def test_a_pickle_from_a_maintainer_without_trust_is_403_and_leaves_nothing(
        as_user, maintainer, model, iris_pickle, artifact_root, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    response = upload(as_user(maintainer), iris_pickle, name="innocent.onnx")
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "file"
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


def test_an_upload_over_the_size_limit_is_413_and_leaves_nothing(
        as_user, maintainer, model, iris_onnx, artifact_root, settings):
    settings.MODELYARD_MAX_UPLOAD_BYTES = 100
    response = upload(as_user(maintainer), iris_onnx[0])
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


@pytest.mark.parametrize("fields,field", [
    ({"signature": "{not json"}, "signature"),
    ({"metrics": {"accuracy": "great"}}, "metrics"),
    ({"sha256": "zz"}, "sha256"),
])
def test_bad_metadata_is_400_naming_the_field(as_user, maintainer, model, iris_onnx, artifact_root, fields, field):
    response = upload(as_user(maintainer), iris_onnx[0], **fields)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field
    assert stored_files(artifact_root) == []


def test_a_missing_file_is_400(as_user, maintainer, model):
    response = as_user(maintainer).post(URL, {"description": "no file"}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["field"] == "file"


def test_a_predictor_cannot_upload(as_user, teammate, model, iris_onnx, artifact_root):
    response = upload(as_user(teammate), iris_onnx[0])
    assert response.status_code == 403
    assert stored_files(artifact_root) == []


def test_an_outsider_cannot_see_that_the_model_exists(as_user, outsider, model, iris_onnx, artifact_root):
    assert upload(as_user(outsider), iris_onnx[0]).status_code == 404
    assert as_user(outsider).get(URL).status_code == 404
    assert stored_files(artifact_root) == []


def test_versions_are_listed_newest_first_and_filterable(as_user, viewer, model, owner, iris_onnx):
    make_version(model, owner, iris_onnx[0])
    make_version(model, owner, iris_onnx[0], validate=False)
    body = as_user(viewer).get(URL).json()
    assert [v["version"] for v in body["results"]] == [2, 1]
    ready = as_user(viewer).get(URL, {"status": "ready"}).json()
    assert [v["version"] for v in ready["results"]] == [1]


def test_artifact_download_returns_the_uploaded_bytes(as_user, viewer, model, owner, iris_onnx):
    make_version(model, owner, iris_onnx[0])
    response = as_user(viewer).get(f"{URL}/1/artifact")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == iris_onnx[0]
    assert response["X-Checksum-SHA256"] == hashlib.sha256(iris_onnx[0]).hexdigest()


def test_an_unknown_version_is_404(as_user, viewer, model):
    response = as_user(viewer).get(f"{URL}/7")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
