"""Payloads from MLflow's documentation of the scoring server (``mlflow models serve``)."""

import pytest

from conftest import make_version

# The whole predict suite runs with HS256, RS256 and ES256 tokens (serving/tests/conftest.py).
pytestmark = pytest.mark.usefixtures("jwt_algorithm")

URL = "/api/v1/models/iris/aliases/production/invocations"
PREDICT = "/api/v1/models/iris/aliases/production/predict"
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture
def named_iris(model, owner, iris_onnx):
    """The iris model with a declared signature naming its columns, as MLflow models usually have."""
    from registry import services

    signature = {"inputs": {"dtype": "float32", "features": 4, "columns": COLUMNS}}
    version = make_version(model, owner, iris_onnx[0], signature=signature)
    services.alias_set(actor=owner, model=model, name="production", version=version)
    return version


@pytest.mark.parametrize("payload", [
    {"dataframe_split": {"columns": COLUMNS, "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}},
    {"dataframe_split": {"index": [0, 1], "columns": list(reversed(COLUMNS)),
                         "data": [[0.2, 1.4, 3.5, 5.1], [2.3, 5.2, 3.0, 6.7]]}},
    {"dataframe_records": [dict(zip(COLUMNS, [5.1, 3.5, 1.4, 0.2], strict=True)),
                           dict(zip(COLUMNS, [6.7, 3.0, 5.2, 2.3], strict=True))]},
    {"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]},
    {"instances": [dict(zip(COLUMNS, [5.1, 3.5, 1.4, 0.2], strict=True)),
                   dict(zip(COLUMNS, [6.7, 3.0, 5.2, 2.3], strict=True))]},
    {"inputs": {"sepal_length": [5.1, 6.7], "sepal_width": [3.5, 3.0], "petal_length": [1.4, 5.2],
                "petal_width": [0.2, 2.3]}},
    {"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]},
])
def test_every_mlflow_payload_answers_predictions(as_user, teammate, named_iris, payload):
    response = as_user(teammate).post(URL, payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"predictions": [0, 2]}


def test_mlflow_payloads_are_also_understood_at_predict(as_user, teammate, named_iris):
    payload = {"dataframe_split": {"columns": COLUMNS, "data": [[5.1, 3.5, 1.4, 0.2]]}}
    assert as_user(teammate).post(PREDICT, payload, format="json").json() == {"predictions": [0]}


def test_csv_with_a_header_row(as_user, teammate, named_iris):
    body = "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"
    response = as_user(teammate).post(URL, body, content_type="text/csv")
    assert response.status_code == 200 and response.json() == {"predictions": [0, 2]}


@pytest.mark.parametrize("payload", [
    {"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[1, 2, 3, 4]]}},
    {"dataframe_records": [{"sepal_length": 1}]},
    {"dataframe_split": {"columns": COLUMNS, "data": [[1, 2]]}},
    {"dataframe_split": "not a frame"},
    {"something_else": []},
])
def test_bad_mlflow_payloads_are_400(as_user, teammate, named_iris, payload):
    response = as_user(teammate).post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == "inputs"


def test_records_without_column_names_take_the_records_order(as_user, teammate, ready_iris):
    """As MLflow's scoring server does: the DataFrame's columns are the records' keys, in their order."""
    client = as_user(teammate)
    records = [{"w": 5.1, "x": 3.5, "y": 1.4, "z": 0.2}, {"w": 6.7, "x": 3.0, "y": 5.2, "z": 2.3}]
    response = client.post(URL, {"dataframe_records": records}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"predictions": [0, 2]}
    # A later record listing the same keys in another order still lands each value in its column.
    shuffled = [records[0], {"z": 2.3, "y": 5.2, "x": 3.0, "w": 6.7}]
    assert client.post(URL, {"dataframe_records": shuffled}, format="json").json() == {"predictions": [0, 2]}
    assert client.post(URL, {"instances": records}, format="json").json() == {"predictions": [0, 2]}


@pytest.mark.parametrize("records", [[{"a": 1}], [{"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 1, "b": 2, "c": 3, "e": 4}],
                                     [{"a": 1, "b": 2, "c": 3, "d": "x"}]])
def test_records_without_column_names_must_fit(as_user, teammate, ready_iris, records):
    response = as_user(teammate).post(URL, {"dataframe_records": records}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "inputs"
