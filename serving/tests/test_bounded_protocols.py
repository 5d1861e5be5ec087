"""Protocol decoders bound rows, columns and tensor shapes while parsing, and answer 400 past them."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

INVOCATIONS = "/api/v1/models/iris/aliases/production/invocations"
INFER = "/v2/models/iris/infer"

# Peak RSS growth allowed while refusing a 10 MiB CSV body. The old decoder (splitlines, a list per
# row, then floats) grew it by 500 MiB to 1.3 GB for these bodies.
RSS_MARGIN_MIB = 16

_MEASURE = """
import json, os, resource, sys
import django
django.setup()
from core.errors import ModelyardError
from modelkit import KitError
from serving.protocols import mlflow

features = int(sys.argv[1])
signature = {"inputs": {"dtype": "float32", "features": features, "columns": None}}
row = ",".join(["1"] * features) + "\\n"
body = ",".join("abcd"[:features]) + "\\n" + row * (10 * 1024 * 1024 // len(row))
try:  # imports and first-call costs are paid before the baseline
    mlflow.decode_csv(body[:64], signature)
except (ModelyardError, KitError):
    pass
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    mlflow.decode_csv(body, signature)
    code = "accepted"
except (ModelyardError, KitError) as exc:
    code = exc.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "body": len(body), "growth_mib": (after - before) / 1024}))
"""


@pytest.mark.parametrize("features", [1, 4])
def test_a_10_mib_csv_body_is_refused_at_the_row_limit_with_bounded_memory(features):
    """Measured in a fresh process: ru_maxrss (KiB on Linux) before and after decoding."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "MODELYARD_PREDICT_MAX_ROWS": "10000"}
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(features)], env=env, cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["code"] == "too_many_rows" and measured["body"] > 10_000_000
    assert measured["growth_mib"] < RSS_MARGIN_MIB, measured


@pytest.fixture
def iris_without_names(ready_iris):
    return ready_iris


def post_csv(client, body: str):
    return client.post(INVOCATIONS, body, content_type="text/csv")


def test_csv_rows_past_the_limit_are_400(as_user, teammate, iris_without_names, settings):
    settings.MODELYARD_PREDICT_MAX_ROWS = 3
    client = as_user(teammate)
    ok = post_csv(client, "a,b,c,d\n" + "5.1,3.5,1.4,0.2\n" * 3)
    assert ok.status_code == 200, ok.content
    response = post_csv(client, "a,b,c,d\n" + "5.1,3.5,1.4,0.2\n" * 4)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_rows" and response.json()["error"]["field"] == "inputs"


def test_a_huge_csv_body_is_refused_at_the_row_limit(as_user, teammate, iris_without_names):
    body = "a,b,c,d\n" + "5.1,3.5,1.4,0.2\n" * 200_000  # 3.2 MB (under the body limit), 20 times the row limit
    response = post_csv(as_user(teammate), body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_rows"


@pytest.mark.parametrize("body", [
    "a,b,c,d\n" + "1," * 1_000_000 + "1\n",  # one line of a million values
    "a" + ",a" * 50 + "\n1\n",  # a header wider than the model
    "a,b,c,d\n" + '"1",' * 500_000 + "\n",  # quoted values count too
])
def test_csv_lines_wider_than_the_model_are_refused_before_they_are_split(as_user, teammate, iris_without_names,
                                                                          body):
    response = post_csv(as_user(teammate), body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_columns"


@pytest.mark.parametrize("body,code", [
    ("", "invalid_input"),
    ("a,b,c,d\n1,2,3\n", "invalid_input"),
    ("a,b,c,d\n1,2,x,4\n", "wrong_type"),
    ("a,b,c,d\n1,2,3,4\n\n", "invalid_input"),
    ("a,b,c,d\n1,2,3,4\0\n", "wrong_type"),
    ("a,b,c,d\n", "empty_batch"),
    ('a,b,c,d\n"' + "1," * 1_000_000 + "\n", "invalid_input"),  # one quoted value past csv's field size limit
])
def test_malformed_csv_is_400(as_user, teammate, iris_without_names, body, code):
    response = post_csv(as_user(teammate), body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code


def test_csv_with_quoted_values_and_windows_line_ends(as_user, teammate, iris_without_names):
    response = post_csv(as_user(teammate), 'a,b,"c,d",e\r\n"5.1",3.5,1.4,0.2\r\n6.7,3.0,5.2,2.3\r\n')
    assert response.status_code == 200 and response.json() == {"predictions": [0, 2]}


def test_json_records_are_counted_before_columns_are_built(as_user, teammate, ready_iris, settings):
    settings.MODELYARD_PREDICT_MAX_ROWS = 2
    ready_iris.signature = {**ready_iris.signature, "inputs": {**ready_iris.signature["inputs"],
                                                               "columns": ["a", "b", "c", "d"]}}
    ready_iris.save(update_fields=["signature"])
    records = [{"a": 1, "b": 2, "c": 3, "d": 4}] * 3
    for payload in ({"dataframe_records": records},
                    {"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[1, 2, 3, 4]] * 3}}):
        response = as_user(teammate).post(INVOCATIONS, payload, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_rows", payload


def v2(shape, data=None, **extra):
    tensor = {"name": "x", "shape": shape, "datatype": "FP32", "data": [] if data is None else data, **extra}
    return {"inputs": [tensor]}


@pytest.mark.parametrize("shape,data", [
    ([1] * 65, [1.0]),  # more dimensions than numpy has, with the one value the shape asks for
    ([1, 2**63], []),  # a dimension numpy cannot index
    ([0, 2**63], []),  # zero values, so the value count matches
    ([2**64, 0], []),
    ([0, 2**62, 4], []),  # zero values, but numpy refuses the shape
])
def test_v2_shapes_out_of_range_are_400(as_user, teammate, ready_iris, shape, data):
    response = as_user(teammate).post(INFER, v2(shape, data), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "inputs"


def test_v2_rank_64_is_within_range(as_user, teammate, ready_iris):
    """64 dimensions is numpy's limit, so it decodes; the model then asks for rows of 4 features."""
    response = as_user(teammate).post(INFER, v2([1] * 62 + [1, 4], [5.1, 3.5, 1.4, 0.2]), format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_input"
    assert "rows" in response.json()["error"]


def test_v2_more_tensors_than_model_columns_is_400(as_user, teammate, ready_iris):
    payload = {"inputs": [{"name": f"c{i}", "shape": [1], "datatype": "FP32", "data": [1.0]} for i in range(5)]}
    response = as_user(teammate).post(INFER, payload, format="json")
    assert response.status_code == 400 and response.json()["code"] == "too_many_columns"
