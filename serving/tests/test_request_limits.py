"""Over-limit requests are refused quickly as 400/413, before the model or the database is touched."""

import pytest

# The whole predict suite runs with HS256, RS256 and ES256 tokens (serving/tests/conftest.py).
pytestmark = pytest.mark.usefixtures("jwt_algorithm")

PREDICT = "/api/v1/models/iris/aliases/production/predict"


INVOCATIONS = "/api/v1/models/iris/aliases/production/invocations"


@pytest.mark.parametrize("url", [PREDICT, "/v2/models/iris/infer", INVOCATIONS])
def test_a_body_over_the_limit_is_413_on_the_serving_routes(as_user, teammate, ready_iris, settings, url):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = b'{"inputs": [' + b"[1.0, 2.0, 3.0, 4.0]," * 200 + b"[1.0, 2.0, 3.0, 4.0]]}"
    response = as_user(teammate).post(url, body, content_type="application/json")
    assert response.status_code == 413


def test_a_body_over_the_limit_is_413_on_the_registry_api(as_user, maintainer, model, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = as_user(maintainer).patch("/api/v1/models/iris", {"description": "x" * 5000}, format="json")
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("url", [PREDICT, "/api/v1/models/iris"])
def test_json_nested_beyond_any_use_is_400_not_a_crash(as_user, maintainer, ready_iris, url):
    deep = b'{"inputs": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    client = as_user(maintainer)
    response = client.post(url, deep, content_type="application/json") if url == PREDICT else client.patch(
        url, deep, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"


def test_nesting_within_json_limits_but_not_a_table_is_400(as_user, teammate, ready_iris):
    deep = b'{"inputs": ' + b"[" * 500 + b"1" + b"]" * 500 + b"}"
    response = as_user(teammate).post(PREDICT, deep, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "inputs"


def test_the_row_limit_applies_to_v2_tensors_too(as_user, teammate, ready_iris, settings):
    settings.MODELYARD_PREDICT_MAX_ROWS = 2
    tensor = {"inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP32", "data": [0.5] * 12}]}
    response = as_user(teammate).post("/v2/models/iris/infer", tensor, format="json")
    assert response.status_code == 400 and "limit is 2" in response.json()["error"]
