"""TensorFlow Serving's REST API (KServe v1), with the request examples of TF Serving's documentation."""

import io

import numpy as np
import pytest
import skops.io as sio
from django.db import connection
from django.test.utils import CaptureQueriesContext
from sklearn.linear_model import LinearRegression

from conftest import make_version
from registry import services
from registry.tests.factories import RegisteredModelFactory

# The whole predict suite runs with HS256, RS256 and ES256 tokens (serving/tests/conftest.py).
pytestmark = pytest.mark.usefixtures("jwt_algorithm")

PREDICT = "/v1/models/iris:predict"
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


@pytest.fixture
def half_plus_two(team, owner):
    """TF Serving's tutorial model, y = 0.5 x + 2, as a scikit-learn regression (served as ONNX)."""
    x = np.arange(10, dtype=float).reshape(-1, 1)
    estimator = LinearRegression().fit(x, 0.5 * x.ravel() + 2)
    buffer = io.BytesIO()
    sio.dump(estimator, buffer)
    model = RegisteredModelFactory(team=team, name="half_plus_two", created_by=owner)
    version = make_version(model, owner, buffer.getvalue(), filename="m.skops", input_example=[[1.0]])
    assert version.status == "ready", version.status_message
    services.alias_set(actor=owner, model=model, name="production", version=version)
    return version


def test_the_tf_serving_tutorial_request(as_user, teammate, half_plus_two):
    """curl -d '{"instances": [1.0, 2.0, 5.0]}' .../v1/models/half_plus_two:predict => [2.5, 3.0, 4.5]"""
    response = as_user(teammate).post("/v1/models/half_plus_two:predict", {"instances": [1.0, 2.0, 5.0]},
                                      format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"predictions": [2.5, 3.0, 4.5]}
    assert response["Modelyard-Version"] == "1"


def test_the_tutorial_curl_command_as_sent(as_user, teammate, half_plus_two):
    """curl -d sends application/x-www-form-urlencoded; TF Serving reads the body as JSON anyway."""
    client = as_user(teammate)
    for content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
        response = client.generic("POST", "/v1/models/half_plus_two:predict", b'{"instances": [1.0, 2.0, 5.0]}',
                                  content_type=content_type)
        assert response.status_code == 200, (content_type, response.content)
        assert response.json() == {"predictions": [2.5, 3.0, 4.5]}
    broken = client.post("/v1/models/half_plus_two:predict", b"instances=1", content_type="text/plain")
    assert broken.status_code == 400 and "Malformed JSON" in broken.json()["error"]


def test_the_columnar_format_answers_outputs(as_user, teammate, half_plus_two):
    client = as_user(teammate)
    body = client.post("/v1/models/half_plus_two:predict", {"inputs": [1.0, 2.0, 5.0]}, format="json").json()
    assert body == {"outputs": [2.5, 3.0, 4.5]}
    named = client.post("/v1/models/half_plus_two:predict", {"signature_name": "serving_default",
                                                             "inputs": {"x": [[1.0], [2.0]]}}, format="json")
    assert named.json() == {"outputs": [2.5, 3.0]}


def test_several_outputs_are_one_object_per_row(as_user, teammate, ready_iris):
    body = as_user(teammate).post(PREDICT, {"instances": ROWS}, format="json").json()
    assert [p["labels"] for p in body["predictions"]] == [0, 2]
    assert all(len(p["probabilities"]) == 3 and abs(sum(p["probabilities"]) - 1) < 1e-5 for p in body["predictions"])
    columnar = as_user(teammate).post(PREDICT, {"inputs": ROWS}, format="json").json()
    assert columnar["outputs"]["labels"] == [0, 2] and np.shape(columnar["outputs"]["probabilities"]) == (2, 3)


def test_named_instances(as_user, teammate, ready_iris):
    """One named input per instance (TF Serving's {"instances": [{"x": [...]}]}), or one value per column."""
    client = as_user(teammate)
    body = client.post(PREDICT, {"instances": [{"x": row} for row in ROWS]}, format="json").json()
    assert [p["labels"] for p in body["predictions"]] == [0, 2]
    records = [{"a": r[0], "b": r[1], "c": r[2], "d": r[3]} for r in ROWS]  # no column names: the records' order
    assert [p["labels"] for p in client.post(PREDICT, {"instances": records}, format="json").json()["predictions"]] \
        == [0, 2]


def test_versions_and_labels(as_user, owner, teammate, model, ready_iris, iris_onnx):
    second = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="staging", version=second)
    client = as_user(teammate)
    assert client.post("/v1/models/iris/versions/2:predict", {"instances": ROWS},
                       format="json")["Modelyard-Version"] == "2"
    assert client.post("/v1/models/iris/labels/staging:predict", {"instances": ROWS},
                       format="json")["Modelyard-Version"] == "2"
    assert client.post(PREDICT, {"instances": ROWS}, format="json")["Modelyard-Version"] == "1"  # production
    missing = client.post("/v1/models/iris/versions/9:predict", {"instances": ROWS}, format="json")
    assert missing.status_code == 404 and "no version" in missing.json()["error"]
    assert client.post("/v1/models/iris/labels/nope:predict", {"instances": ROWS}, format="json").status_code == 404


def test_model_status(as_user, viewer, ready_iris):
    body = as_user(viewer).get("/v1/models/iris").json()
    assert body["ready"] is True and body["name"] == "iris"
    assert body["model_version_status"] == [{"version": "1", "state": "AVAILABLE",
                                             "status": {"error_code": "OK", "error_message": ""}}]
    assert as_user(viewer).get("/v1/models/iris/versions/1").json()["ready"] is True
    assert as_user(viewer).get("/v1/models/iris/labels/production").json()["ready"] is True
    assert as_user(viewer).get("/v1/models/iris/versions/4").status_code == 404


def test_errors_are_tf_serving_strings_and_roles_hold(as_user, teammate, viewer, outsider, ready_iris):
    client = as_user(teammate)
    for bad in ({"instances": [[1, 2, 3]]}, {"instances": ROWS, "inputs": ROWS}, {"rows": ROWS},
                {"instances": [["a", "b", "c", "d"]]}, {"instances": ROWS, "signature_name": "other"},
                {"instances": [{"x": ROWS[0]}, {"y": ROWS[1]}]}, {"inputs": {"a": [1, 2], "b": [1]}}, [1, 2]):
        response = client.post(PREDICT, bad, format="json")
        assert response.status_code == 400, (bad, response.content)
        assert isinstance(response.json()["error"], str)
    assert client.post(PREDICT, "x", content_type="text/csv").status_code == 415
    assert as_user(viewer).post(PREDICT, {"instances": ROWS}, format="json").status_code == 403
    assert as_user(outsider).post(PREDICT, {"instances": ROWS}, format="json").status_code == 404
    assert as_user(outsider).get("/v1/models/iris").status_code == 404


def test_the_v1_path_makes_no_query(as_user, teammate, ready_iris):
    client = as_user(teammate)
    client.post(PREDICT, {"instances": ROWS}, format="json")
    client.get("/v1/models/iris")
    with CaptureQueriesContext(connection) as queries:
        assert client.post(PREDICT, {"instances": ROWS}, format="json").status_code == 200
        assert client.get("/v1/models/iris").status_code == 200
    assert queries.captured_queries == []
