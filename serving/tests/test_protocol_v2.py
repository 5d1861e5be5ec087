"""Open Inference Protocol v2, with the request examples of KServe's and Triton's documentation."""

import struct

import numpy as np
import orjson
import pytest

# The whole predict suite runs with HS256, RS256 and ES256 tokens (serving/tests/conftest.py).
pytestmark = pytest.mark.usefixtures("jwt_algorithm")

INFER = "/v2/models/iris/infer"
# KServe's sklearn iris example (docs: "Deploy InferenceService with ... V2 protocol").
KSERVE_EXAMPLE = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32",
                              "data": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}]}


def test_the_kserve_documentation_example(as_user, teammate, ready_iris):
    response = as_user(teammate).post(INFER, KSERVE_EXAMPLE, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model_name"] == "iris" and body["model_version"] == "1"
    labels = next(o for o in body["outputs"] if o["name"] == "labels")
    assert labels == {"name": "labels", "datatype": "INT64", "shape": [2], "data": [1, 1]}


def test_flat_data_with_an_id_and_requested_outputs(as_user, teammate, ready_iris):
    payload = {"id": "42", "inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64",
                                       "data": [5.1, 3.5, 1.4, 0.2]}], "outputs": [{"name": "probabilities"}]}
    body = as_user(teammate).post("/v2/models/iris/versions/1/infer", payload, format="json").json()
    assert body["id"] == "42" and [o["name"] for o in body["outputs"]] == ["probabilities"]
    assert body["outputs"][0]["shape"] == [1, 3]


def test_binary_tensor_extension(as_user, teammate, ready_iris):
    rows = np.array([[5.1, 3.5, 1.4, 0.2]], dtype="<f4")
    header = orjson.dumps({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32",
                                       "parameters": {"binary_data_size": rows.nbytes}}],
                           "parameters": {"binary_data_output": True}})
    response = as_user(teammate).post(INFER, header + rows.tobytes(), content_type="application/octet-stream",
                                      HTTP_INFERENCE_HEADER_CONTENT_LENGTH=str(len(header)))
    assert response.status_code == 200, response.content
    size = int(response["Inference-Header-Content-Length"])
    meta = orjson.loads(response.content[:size])
    labels = meta["outputs"][0]
    assert labels["name"] == "labels" and labels["parameters"]["binary_data_size"] == 8
    assert struct.unpack("<q", response.content[size:size + 8]) == (0,)


def test_health_and_server_metadata_are_public(client, db):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2").json()["name"] == "modelyard"


def test_model_metadata_and_readiness(as_user, viewer, ready_iris):
    client = as_user(viewer)
    meta = client.get("/v2/models/iris").json()
    assert meta["name"] == "iris" and meta["versions"] == ["1"] and meta["platform"] == "onnxruntime_onnx"
    assert meta["inputs"] == [{"name": "input-0", "datatype": "FP32", "shape": [-1, 4]}]
    assert client.get("/v2/models/iris/versions/1/ready").json() == {"name": "iris", "ready": True}
    assert client.get("/v2/models/iris/versions/7/ready").status_code == 404


def test_v2_errors_carry_the_message_as_a_string(as_user, teammate, viewer, ready_iris):
    bad = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}
    response = as_user(teammate).post(INFER, bad, format="json")
    assert response.status_code == 400 and "features" in response.json()["error"]
    assert as_user(viewer).post(INFER, KSERVE_EXAMPLE, format="json").status_code == 403


def test_bytes_tensors_and_mismatched_shapes_are_refused(as_user, teammate, ready_iris):
    client = as_user(teammate)
    as_bytes = {"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}
    assert client.post(INFER, as_bytes, format="json").status_code == 400
    wrong = {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
    assert client.post(INFER, wrong, format="json").status_code == 400
