"""The client's pure parts: model URIs, request bodies, signatures from samples, errors, token expiry, config."""

import base64
import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from modelyard import ApprovalRequired, BadRequest, ModelRef, NotFound, ServerError, Throttled, UsageError
from modelyard.artifacts import Artifact, artifact_from, example_from_sample, signature_from_sample
from modelyard.cli import config
from modelyard.errors import error_from_response
from modelyard.predictions import Prediction, inputs_body
from modelyard.session import token_expiry


@pytest.mark.parametrize(("uri", "expected"), [
    ("iris@production", ModelRef("iris", alias="production")),
    ("iris/3", ModelRef("iris", version=3)),
    ("models:/iris@staging", ModelRef("iris", alias="staging")),
    ("models:/my.model-2/12", ModelRef("my.model-2", version=12)),
])
def test_model_uris(uri, expected):
    assert ModelRef.parse(uri) == expected


@pytest.mark.parametrize("uri", ["iris", "iris/0", "iris@", "models:/iris", "runs:/abc/model", "Iris@prod",
                                 "iris@prod/3"])
def test_what_is_no_model_uri(uri):
    with pytest.raises(UsageError, match="no model URI"):
        ModelRef.parse(uri)


def test_request_bodies_from_every_kind_of_rows():
    assert inputs_body([[1, 2]], None) == {"inputs": [[1, 2]]}
    assert inputs_body([1, 2], None) == {"inputs": [[1, 2]]}  # one row, flat
    assert inputs_body(np.array([[1.5, 2.0]]), None) == {"inputs": [[1.5, 2.0]]}
    assert inputs_body({"a": np.array([1, 2])}, None) == {"inputs": {"a": [1, 2]}}
    frame = pd.DataFrame({"b": [2.0], "a": [1.0]})
    assert inputs_body(frame, ["a", "b"]) == {"inputs": {"a": [1.0], "b": [2.0]}}
    assert inputs_body(frame, None) == {"inputs": [[2.0, 1.0]]}  # a model without names: positions
    with pytest.raises(UsageError, match=r"lacks the model's columns \['c'\]"):
        inputs_body(frame, ["a", "c"])
    with pytest.raises(UsageError):
        inputs_body("1,2", None)


def test_answers_are_arrays_and_frames():
    answer = Prediction({"model": "iris", "version": 2, "outputs": {"labels": [0, 2],
                                                                    "probabilities": [[0.9, 0.1], [0.2, 0.8]]}},
                        index=["x", "y"])
    assert answer["labels"].dtype.kind == "i" and answer["probabilities"].shape == (2, 2)
    frame = answer.to_pandas()
    assert list(frame.columns) == ["labels", "probabilities_0", "probabilities_1"]
    assert list(frame.index) == ["x", "y"] and frame.loc["y", "probabilities_1"] == 0.8


def test_signatures_and_examples_from_samples():
    frame = pd.DataFrame({"a": np.array([1, 2], dtype="float32"), "b": np.array([3, 4], dtype="float32")})
    assert signature_from_sample(frame) == {"inputs": {"dtype": "float32", "features": 2, "columns": ["a", "b"]}}
    assert signature_from_sample(np.zeros((3, 5), dtype="int64"))["inputs"] == {"dtype": "int64", "features": 5,
                                                                               "columns": None}
    assert signature_from_sample([[1, 2, 3]])["inputs"]["features"] == 3
    assert example_from_sample(np.arange(20).reshape(10, 2)) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert example_from_sample({"a": [1, 2], "b": [3, 4]}) == [[1, 3], [2, 4]]
    with pytest.raises(UsageError, match="2-D"):
        signature_from_sample(np.zeros(3))
    with pytest.raises(UsageError, match="Cannot push a dict"):
        artifact_from({"not": "a model"})


def test_an_estimator_with_feature_names_declares_them(iris_estimator):
    from sklearn.linear_model import LinearRegression

    named = LinearRegression().fit(pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 0.0]}), [0.0, 1.0])
    artifact = artifact_from(named)
    assert isinstance(artifact, Artifact) and artifact.filename == "model.skops"
    assert artifact.signature == {"inputs": {"columns": ["x", "y"]}}
    assert artifact_from(iris_estimator).signature == {}


def test_errors_by_status_and_code():
    envelope = {"error": {"code": "approval_required", "message": "protected", "field": "alias"}}
    assert isinstance(error_from_response(409, envelope), ApprovalRequired)
    bad = error_from_response(400, {"error": {"code": "invalid", "message": "no", "field": "file"}})
    assert isinstance(bad, BadRequest) and str(bad) == "no (field: file) [400 invalid]" and bad.exit_code == 2
    throttled = error_from_response(429, {"error": {"code": "throttled", "message": "slow"}}, retry_after="7")
    assert isinstance(throttled, Throttled) and throttled.retry_after == 7.0
    assert isinstance(error_from_response(502, "<html>bad gateway</html>"), ServerError)
    assert isinstance(error_from_response(404, {"error": "Not found"}), NotFound)  # the v2 routes' shape


def _jwt(claims: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{body}.sig"


def test_token_expiry_is_read_without_verifying():
    assert token_expiry(_jwt({"exp": 1700000000})) == 1700000000.0
    assert token_expiry("opaque-service-token") is None
    assert token_expiry(_jwt({"sub": 1})) is None
    assert token_expiry("a.!!!.c") is None


def test_credentials_are_written_0600_even_over_a_wider_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELYARD_CONFIG_DIR", str(tmp_path / "cfg"))
    (tmp_path / "cfg").mkdir()
    config.credentials_path().write_text("{}")
    os.chmod(config.credentials_path(), 0o644)
    path = config.save({"url": "http://x", "access": "a", "refresh": "r"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and config.load()["refresh"] == "r"
    assert config.forget() is True and config.load() == {"url": "http://x"}
    assert config.forget() is False


def test_the_package_imports_only_its_declared_dependencies_at_module_level():
    """A fresh `pip install ./client` has httpx, typer, rich and pyyaml; extras are imported where used."""
    import ast
    import sys
    from pathlib import Path

    import modelyard

    allowed = set(sys.stdlib_module_names) | {"httpx", "typer", "rich", "yaml", "modelyard"}
    found = {}
    for path in Path(modelyard.__file__).parent.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:  # module level only
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                found.setdefault(name.split(".")[0], path.name)
    assert {name: where for name, where in found.items() if name not in allowed} == {}
