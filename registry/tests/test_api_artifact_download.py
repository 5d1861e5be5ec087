"""Downloading a version's artifact: the bytes with their checksum, or a retryable 503 when storage is down."""

import hashlib

URL = "/api/v1/models/iris/versions/1/artifact"


def test_a_viewer_downloads_the_artifact_with_its_checksum(as_user, viewer, ready_iris, iris_onnx):
    response = as_user(viewer).get(URL)
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body == iris_onnx[0]
    assert response["X-Checksum-SHA256"] == hashlib.sha256(body).hexdigest()


def test_storage_that_does_not_answer_is_503_not_500(as_user, viewer, ready_iris, settings):
    settings.STORAGES = {**settings.STORAGES, "artifacts": {
        "BACKEND": "registry.tests.storages.UnreachableStorage", "OPTIONS": {}}}
    response = as_user(viewer).get(URL)
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert "s3.internal" not in response.json()["error"]["message"]
