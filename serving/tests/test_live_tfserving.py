"""TF Serving / KServe v1 against gunicorn and a real Celery worker, with an XGBoost model uploaded as a file.

These are the requests KServe's ``InferenceRESTClient(protocol="v1")`` sends (kserve/inference_client.py),
with TF Serving's documented row and columnar payloads; KServe's own client, unchanged, is run against a
live server in serving/tests/test_kserve_client.py (from a venv of its own: its protobuf pin clashes with onnx's)."""

import httpx
import numpy as np
import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import wait_for_status
from modelkit.tests import framework_models as fm
from registry.tokens import RefreshToken

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def kserve_v1_infer(client: httpx.Client, base: str, model: str, data: dict) -> httpx.Response:
    return client.post(f"{base}/v1/models/{model}:predict", content=orjson.dumps(data),
                       headers={"content-type": "application/json"})


def test_an_xgboost_file_answers_tf_serving_clients(worker, web_server, as_user, maintainer, teammate, model):
    trained = fm.xgboost_model("multiclass", ".ubj")
    uploaded = as_user(maintainer).post(
        "/api/v1/models/iris/versions",
        {"file": SimpleUploadedFile("model.ubj", trained.data),
         "input_example": orjson.dumps(trained.held_out[:3].tolist()).decode()}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    version = wait_for_status(1)
    assert version.status == "ready", version.status_message
    assert version.format == "xgboost" and version.serving_format == "onnx", version.serving_note
    assert as_user(maintainer).put("/api/v1/models/iris/aliases/production", {"version": 1},
                                   format="json").status_code == 200

    token = str(RefreshToken.for_user(teammate).access_token)
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        assert client.get(f"{web_server}/v1/models/iris").json().get("ready") is True
        rows = kserve_v1_infer(client, web_server, "iris", {"instances": trained.held_out.tolist()})
        assert rows.status_code == 200, rows.content
        probabilities = np.array([p["probabilities"] for p in rows.json()["predictions"]])
        np.testing.assert_allclose(probabilities, trained.expected, rtol=1e-4, atol=1e-4)
        assert [p["labels"] for p in rows.json()["predictions"]] == np.argmax(trained.expected, axis=1).tolist()
        columnar = client.post(f"{web_server}/v1/models/iris/labels/production:predict",
                               json={"signature_name": "serving_default", "inputs": trained.held_out.tolist()})
        assert columnar.status_code == 200 and columnar.headers["Modelyard-Version"] == "1"
        np.testing.assert_allclose(columnar.json()["outputs"]["probabilities"], trained.expected, rtol=1e-4,
                                   atol=1e-4)
        refused = kserve_v1_infer(client, web_server, "iris", {"instances": [[1.0, 2.0]]})
        assert refused.status_code == 400 and "features" in refused.json()["error"]
    anonymous = httpx.post(f"{web_server}/v1/models/iris:predict", json={"instances": [[1, 2, 3, 4]]})
    assert anonymous.status_code == 401
