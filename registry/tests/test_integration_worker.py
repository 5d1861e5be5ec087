"""End to end with a real Celery worker process on the configured broker and database."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_uploaded_model_is_validated_by_a_real_worker_then_served(worker, as_user, maintainer, model,
                                                                      iris_onnx, iris_rows):
    client = as_user(maintainer)
    good = client.post("/api/v1/models/iris/versions",
                       {"file": SimpleUploadedFile("iris.onnx", iris_onnx[0])}, format="multipart")
    bad = client.post("/api/v1/models/iris/versions",
                      {"file": SimpleUploadedFile("iris.onnx", iris_onnx[0][:300])}, format="multipart")
    assert (good.status_code, bad.status_code) == (201, 201)
    assert good.json()["status"] == "pending"

    ready, failed = wait_for_status(1), wait_for_status(2)
    assert ready.status == "ready", ready.status_message
    assert failed.status == "failed" and "onnxruntime cannot load" in failed.status_message

    assert client.put("/api/v1/models/iris/aliases/production", {"version": 1}, format="json").status_code == 200
    response = client.post("/api/v1/models/iris/aliases/production/predict", {"inputs": iris_rows}, format="json")
    assert response.status_code == 200 and response.json()["outputs"]["labels"] == [0, 2]
