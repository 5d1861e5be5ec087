"""Reading MLflow model directories on the client: flavors, signatures, examples, lineage, what is refused."""

import json

import numpy as np
import pytest
import skops.io as sio

from client.tests.conftest import FEATURES, ROWS
from modelyard import UsageError
from modelyard.mlflow import example_rows, read_mlflow_model, signature_from_mlflow


def test_the_sklearn_flavor_is_unpickled_here_and_sent_as_skops(write_mlflow, iris_estimator):
    artifact = read_mlflow_model(write_mlflow("sklearn", iris_estimator, ROWS))
    assert artifact.filename == "model.skops" and artifact.path is None
    loaded = sio.loads(artifact.data, trusted=sio.get_untrusted_types(data=artifact.data))
    assert loaded.predict(np.array(ROWS)).tolist() == iris_estimator.predict(np.array(ROWS)).tolist()
    assert artifact.signature == {"inputs": {"dtype": "float64", "features": 4, "columns": FEATURES}}
    assert artifact.input_example == ROWS  # the file has the columns reversed; back in the signature's order
    assert artifact.lineage == {"source_run": "4f1c0ffee", "source": "runs:/4f1c0ffee/model"}
    assert artifact.tags["mlflow.flavor"] == "sklearn" and artifact.tags["mlflow.mlflow_version"] == "2.16.2"


def test_the_onnx_flavor_sends_its_onnx_file(write_mlflow, iris_onnx):
    path = write_mlflow("onnx", iris_onnx[0], ROWS, run_id=None)
    artifact = read_mlflow_model(path)
    assert artifact.path == (path / "model.onnx").resolve() and artifact.filename == "model.onnx"
    assert artifact.lineage == {"source": path.resolve().as_uri()}  # no run: the directory is the source


@pytest.mark.parametrize("missing", ["model.pkl", "input_example.json"])
def test_a_missing_file_is_named(write_mlflow, iris_estimator, missing):
    path = write_mlflow("sklearn", iris_estimator, ROWS)
    (path / missing).unlink()
    with pytest.raises(UsageError, match=f"incomplete: the .* {missing} is missing"):
        read_mlflow_model(path)


def test_refusals_say_what_is_wrong(tmp_path, write_mlflow, iris_onnx, iris_estimator):
    with pytest.raises(UsageError, match="without an MLmodel file"):
        read_mlflow_model(tmp_path)
    path = write_mlflow("onnx", iris_onnx[0], ROWS)
    spec = (path / "MLmodel").read_text()
    (path / "MLmodel").write_text(spec.replace("data: model.onnx", "data: ../../etc/passwd"))
    with pytest.raises(UsageError, match="outside the model directory"):
        read_mlflow_model(path)
    (path / "MLmodel").write_text(spec.replace("onnx:", "xgboost:"))
    with pytest.raises(UsageError, match="pushes the onnx and sklearn flavors"):
        read_mlflow_model(path)
    (path / "MLmodel").write_text("flavors: [unclosed")
    with pytest.raises(UsageError, match="not valid YAML"):
        read_mlflow_model(path)
    broken = write_mlflow("sklearn", iris_estimator, ROWS, name="broken")
    (broken / "model.pkl").write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(UsageError, match="model.pkl could not be loaded"):
        read_mlflow_model(broken)


def test_mlflow_signatures_become_modelyards():
    tensor = json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}])
    assert signature_from_mlflow({"inputs": tensor}) == {"inputs": {"dtype": "float32", "features": 4,
                                                                    "columns": None}}
    mixed = json.dumps([{"type": "long", "name": "a"}, {"type": "double", "name": "b"}])
    assert signature_from_mlflow({"inputs": mixed})["inputs"] == {"dtype": "float64", "features": 2,
                                                                  "columns": ["a", "b"]}
    unnamed = json.dumps([{"type": "float"}, {"type": "float"}])
    assert signature_from_mlflow({"inputs": unnamed})["inputs"]["columns"] is None
    with pytest.raises(UsageError, match="numeric inputs only"):
        signature_from_mlflow({"inputs": json.dumps([{"type": "string", "name": "city"}])})
    assert signature_from_mlflow(None) == {}


def test_every_example_layout_mlflow_writes_gives_rows():
    columns = ["a", "b"]
    assert example_rows({"columns": ["b", "a"], "data": [[2, 1]]}, columns) == [[1, 2]]
    assert example_rows([{"b": 2, "a": 1}], columns) == [[1, 2]]
    assert example_rows({"inputs": [[1, 2]]}, None) == [[1, 2]]
    assert example_rows({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]}}, columns) == [[1, 2]]
    assert example_rows({"a": [1, 3], "b": [2, 4]}, columns) == [[1, 2], [3, 4]]
    assert example_rows("text", None) is None
