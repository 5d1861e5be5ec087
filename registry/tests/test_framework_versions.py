"""XGBoost, LightGBM and TorchScript versions end to end in one process: upload, validation (conversion
and equivalence check), predictions through the API on held-out rows, and corrupt files of each format."""

import os
import sys
import zipfile

import numpy as np
import pytest

from conftest import make_version, stored_files
from modelkit.tests import framework_models as fm
from registry.models import ModelVersion

try:
    import tensorflow  # noqa: F401

    HAVE_TF = True
except ImportError:
    HAVE_TF = False
needs_tf = pytest.mark.skipif(not HAVE_TF and not os.environ.get("MODELYARD_REQUIRE_TF"),
                              reason="tensorflow is an optional extra (requirements-tf.txt); CI installs it")
needs_torch = pytest.mark.skipif(fm._Scaled is None and not os.environ.get("MODELYARD_REQUIRE_TORCH"),
                                 reason="torch is an optional extra (requirements-torch.txt); CI installs it")


def _cases() -> dict:
    return {
        "xgboost-json-binary": lambda: fm.xgboost_model("binary", ".json"),
        "xgboost-ubj-multiclass": lambda: fm.xgboost_model("multiclass", ".ubj"),
        "xgboost-json-regression": lambda: fm.xgboost_model("regression", ".json"),
        "lightgbm-binary": lambda: fm.lightgbm_model("binary"),
        "lightgbm-multiclass": lambda: fm.lightgbm_model("multiclass"),
        "lightgbm-regression": lambda: fm.lightgbm_model("regression"),
        "torchscript": fm.torchscript_model,
        "torchscript-not-exportable": lambda: fm.torchscript_model(exact=False),
        "savedmodel-zip-regression": lambda: fm.savedmodel_archive("regression", "zip"),
        "savedmodel-tgz-multiclass": lambda: fm.savedmodel_archive("multiclass", "tgz"),
    }


FORMATS = {"xgboost": "xgboost", "lightgbm": "lightgbm", "torchscript": "torchscript", "savedmodel": "savedmodel"}
MARKS = {"torchscript": needs_torch, "savedmodel": needs_tf}
SERVED_BY = {"torchscript-not-exportable": "served by PyTorch: torch.onnx cannot convert it"}


def predicted(client, number: int, rows: np.ndarray) -> np.ndarray:
    response = client.post(f"/api/v1/models/iris/versions/{number}/predict", {"inputs": rows.tolist()}, format="json")
    assert response.status_code == 200, response.content
    outputs = response.json()["outputs"]
    return np.asarray(outputs["probabilities"] if "probabilities" in outputs else outputs["predictions"])


@pytest.mark.parametrize("case", [pytest.param(c, marks=MARKS.get(c.split("-")[0], ())) for c in _cases()])
def test_each_framework_answers_like_itself_on_held_out_rows(as_user, teammate, model, owner, case):
    trained = _cases()[case]()
    example = trained.held_out[:3].tolist()
    version = make_version(model, owner, trained.data, input_example=example)
    assert version.status == "ready", version.status_message
    assert version.format == FORMATS[case.split("-")[0]]
    expected_note = SERVED_BY.get(case, "served by onnxruntime: converted with ")
    assert version.serving_note.startswith(expected_note), version.serving_note
    assert version.serving_format == ("onnx" if case not in SERVED_BY else "torchscript")
    answer = predicted(as_user(teammate), version.version, trained.held_out)
    difference = float(np.max(np.abs(answer - trained.expected)))
    print(f"\n{case}: {version.serving_note} | API vs framework on {len(answer)} held-out rows: max abs "
          f"difference {difference:.3g}")
    np.testing.assert_allclose(answer, trained.expected, rtol=1e-4, atol=1e-4)


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _replaced(data: bytes, suffix: str) -> bytes:
    """The zip with the entries ending in ``suffix`` overwritten with garbage."""
    import io

    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(broken, "w") as target:
        for name in source.namelist():
            target.writestr(name, b"garbage" if name.endswith(suffix) else source.read(name))
    return broken.getvalue()


def _bad_torchscript_pickle(data: bytes) -> bytes:
    return _replaced(data, "data.pkl")


@pytest.mark.parametrize("case,corrupt,message", [
    ("xgboost-json-binary", _truncated, "XGBoost cannot load this model"),
    ("xgboost-ubj-multiclass", _truncated, "XGBoost cannot load this model"),
    ("lightgbm-binary", _truncated, "LightGBM cannot load this model"),
    pytest.param("torchscript", _bad_torchscript_pickle, "PyTorch cannot load this TorchScript archive",
                 marks=needs_torch),
    pytest.param("savedmodel-zip-regression", lambda data: _replaced(data, "saved_model.pb"),
                 "TensorFlow cannot load this SavedModel", marks=needs_tf),
])
def test_a_corrupt_file_of_each_format_fails_its_version_clearly(model, owner, artifact_root, case, corrupt, message):
    data = corrupt(_cases()[case]().data)
    version = make_version(model, owner, data)
    assert version.status == "failed" and version.status_message.startswith(message), version.status_message
    assert version.serving_storage_key == "" and version.serving_note == ""
    assert len(stored_files(artifact_root)) == 1  # the upload only: no conversion kept


@needs_torch
def test_torchscript_needs_a_declared_input_shape(model, owner):
    data = fm.torchscript_model().data
    version = make_version(model, owner, data)
    assert version.status == "failed"
    assert "does not record its input shape: declare it (signature.inputs.features)" in version.status_message
    declared = make_version(model, owner, data, signature={"inputs": {"features": 10}})
    assert declared.status == "ready", declared.status_message
    assert declared.signature["inputs"]["features"] == 10 and declared.serving_format == "onnx", declared.serving_note


def test_a_worker_without_the_framework_fails_the_version_naming_the_extra(model, owner, monkeypatch):
    data = fm.lightgbm_model("binary").data
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # importing it raises ImportError from now on
    version = make_version(model, owner, data)
    assert version.status == "failed"
    assert version.status_message == ("This worker cannot load lightgbm models: the Python package 'lightgbm' is "
                                      "not installed (pip install -r requirements.txt)")
    assert ModelVersion.objects.filter(status="ready").count() == 0


@needs_torch
def test_a_worker_without_torch_names_the_torch_extra(model, owner, monkeypatch):
    data = fm.torchscript_model().data
    monkeypatch.setitem(sys.modules, "torch", None)
    version = make_version(model, owner, data, signature={"inputs": {"features": 10}})
    assert version.status == "failed"
    assert version.status_message == ("This worker cannot load torchscript models: the Python package 'torch' is "
                                      "not installed (pip install -r requirements-torch.txt)")


def test_a_savedmodel_zip_with_a_path_outside_it_is_refused_at_upload(as_user, maintainer, model, artifact_root):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model/saved_model.pb", b"x")
        archive.writestr("model/../../../etc/cron.d/evil", b"* * * * * root true")
    response = as_user(maintainer).post("/api/v1/models/iris/versions",
                                        {"file": SimpleUploadedFile("model.zip", buffer.getvalue())},
                                        format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == {"code": "unsafe_archive", "field": "file", "message":
                                        "The archive has a path outside its folder: 'model/../../../etc/cron.d/evil'"}
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


@needs_tf
def test_a_truncated_savedmodel_tar_is_refused_at_upload(model, owner, artifact_root):
    from core.errors import ModelyardError

    data = fm.savedmodel_archive("regression", "tgz").data
    with pytest.raises(ModelyardError) as refused:
        make_version(model, owner, data[: len(data) // 2])
    assert refused.value.code == "unsupported_format"
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


def test_v2_metadata_names_what_answers(as_user, teammate, model, owner):
    from registry import services

    onnx = make_version(model, owner, fm.xgboost_model("binary").data)
    served_by_framework = make_version(model, owner, fm.lightgbm_model("binary").data,
                                       signature={"inputs": {"features": 30}})
    ModelVersion.objects.filter(pk=served_by_framework.pk).update(serving_format="lightgbm")  # as if inexact
    services.alias_set(actor=owner, model=model, name="production", version=onnx)
    client = as_user(teammate)
    assert client.get("/v2/models/iris/versions/1").json()["platform"] == "onnxruntime_onnx"
    assert client.get("/v2/models/iris/versions/2").json()["platform"] == "lightgbm"
