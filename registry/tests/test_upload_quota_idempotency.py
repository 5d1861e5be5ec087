"""A team's storage quota (507 past it, nothing kept) and Idempotency-Key on uploads (a retry makes no copy)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import stored_files
from registry.models import ModelVersion

URL = "/api/v1/models/iris/versions"


def upload(client, data: bytes, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, {"file": SimpleUploadedFile("m.onnx", data)}, format="multipart", **headers)


def test_an_upload_past_the_teams_quota_is_507_and_keeps_nothing(as_user, maintainer, model, team, iris_onnx,
                                                                 artifact_root):
    team.storage_quota_bytes = len(iris_onnx[0]) + 10
    team.save()
    assert upload(as_user(maintainer), iris_onnx[0]).status_code == 201
    files = stored_files(artifact_root)
    response = upload(as_user(maintainer), iris_onnx[0])
    assert response.status_code == 507
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded" and "acme" in error["message"] and "Delete or archive" in error["message"]
    assert ModelVersion.objects.count() == 1 and stored_files(artifact_root) == files


def test_deleting_a_version_frees_its_quota(as_user, maintainer, model, team, iris_onnx):
    team.storage_quota_bytes = len(iris_onnx[0]) + 10
    team.save()
    client = as_user(maintainer)
    assert upload(client, iris_onnx[0]).status_code == 201
    ModelVersion.objects.update(status="failed")  # deletable (not validating)
    assert client.delete(URL + "/1").status_code == 200
    assert upload(client, iris_onnx[0]).status_code == 201


def test_the_deployment_default_applies_when_a_team_has_none(as_user, maintainer, model, iris_onnx, settings):
    settings.MODELYARD_TEAM_STORAGE_QUOTA_BYTES = 10
    assert upload(as_user(maintainer), iris_onnx[0]).status_code == 507
    settings.MODELYARD_TEAM_STORAGE_QUOTA_BYTES = 0  # no limit
    assert upload(as_user(maintainer), iris_onnx[0]).status_code == 201


def test_a_retried_upload_with_the_same_key_returns_the_first_version(as_user, maintainer, model, iris_onnx,
                                                                      artifact_root):
    client = as_user(maintainer)
    first = upload(client, iris_onnx[0], key="build-42")
    files = stored_files(artifact_root)
    again = upload(client, iris_onnx[0], key="build-42")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["version"] == first.json()["version"] == 1
    assert ModelVersion.objects.count() == 1 and stored_files(artifact_root) == files


def test_the_same_key_with_another_file_is_409(as_user, maintainer, model, iris_onnx, recommender_skops):
    client = as_user(maintainer)
    assert upload(client, iris_onnx[0], key="build-42").status_code == 201
    response = upload(client, recommender_skops[0], key="build-42")
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_reused"
    assert ModelVersion.objects.count() == 1


def test_a_malformed_key_is_400(as_user, maintainer, model, iris_onnx):
    response = upload(as_user(maintainer), iris_onnx[0], key="x" * 101)
    assert response.status_code == 400 and response.json()["error"]["field"] == "idempotency_key"
