"""XGBoost, LightGBM and TorchScript files: detected from their bytes, loaded, answering like their
framework on held-out rows, converted to ONNX only when equivalent, and refused clearly when corrupt."""

import io
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from modelkit import LoadPolicy
from modelkit.conversion import accelerate
from modelkit.formats import detect_format
from modelkit.probe import probe_load
from modelkit.runtimes import RuntimeLoadError, load_runtime
from modelkit.runtimes.onnx import OnnxRuntime
from modelkit.tests import framework_models as fm

SAFE = LoadPolicy()
BOOSTED = [("xgboost", "binary", ".json"), ("xgboost", "multiclass", ".ubj"), ("xgboost", "regression", ".json"),
           ("lightgbm", "binary", ""), ("lightgbm", "multiclass", ""), ("lightgbm", "regression", "")]


def trained(fmt: str, task: str, suffix: str) -> fm.Trained:
    return fm.xgboost_model(task, suffix) if fmt == "xgboost" else fm.lightgbm_model(task)


def load(tmp_path: Path, fmt: str, data: bytes):
    path = tmp_path / "artifact"
    path.write_bytes(data)
    return load_runtime(fmt, path, SAFE)


def answer(outputs: dict) -> np.ndarray:
    return outputs["probabilities"] if "probabilities" in outputs else outputs["predictions"]


@pytest.mark.parametrize("fmt,task,suffix", BOOSTED)
def test_boosted_trees_answer_like_their_framework_and_convert_exactly(tmp_path, fmt, task, suffix):
    model = trained(fmt, task, suffix)
    assert detect_format(io.BytesIO(model.data)) == fmt
    runtime = load(tmp_path, fmt, model.data)
    features = model.held_out.shape[1]
    assert runtime.signature()["inputs"]["features"] == features
    assert runtime.signature()["outputs"] == (["predictions"] if task == "regression" else ["labels", "probabilities"])
    own = answer(runtime.predict(model.held_out))
    np.testing.assert_allclose(own, model.expected, rtol=1e-6, atol=1e-6)  # the framework, row for row
    result = accelerate(runtime, model.held_out[:5])
    assert result.onnx is not None, result.note
    assert result.note.startswith("served by onnxruntime: converted with onnxmltools, outputs match on 205 rows")
    onnx_path = tmp_path / "converted.onnx"
    onnx_path.write_bytes(result.onnx)
    converted = OnnxRuntime(onnx_path, SAFE).predict(model.held_out)
    np.testing.assert_allclose(answer(converted), model.expected, rtol=1e-4, atol=1e-4)
    if task != "regression":
        assert converted["labels"].tolist() == np.argmax(model.expected, axis=1).tolist()


@pytest.mark.parametrize("fmt,data", [
    ("xgboost", b'{"learner": {"gradient_booster": {"name": "gbtree", "model": {"trees": [1, 2'),
    ("xgboost", b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner{L\x00\x00\x00\x00\x00\x00\x00\x07garbage"),
    ("lightgbm", b"tree\nversion=v4\nnum_class=1\nmax_feature_idx=three\nTree=0\nnum_leaves=oops\n"),
])
def test_a_corrupt_file_is_a_clear_load_error(tmp_path, fmt, data):
    """Through the probe (a child process), as validation loads them: XGBoost can segfault on these."""
    assert detect_format(io.BytesIO(data)) == fmt
    (tmp_path / "artifact").write_bytes(data)
    with pytest.raises(RuntimeLoadError) as refused:
        probe_load(fmt, tmp_path / "artifact")
    assert refused.value.message.startswith(("XGBoost cannot load this model", "LightGBM cannot load this model"))
    assert str(tmp_path) not in refused.value.message


def test_a_truncated_real_model_is_refused(tmp_path):
    data = fm.xgboost_model("binary").data
    (tmp_path / "artifact").write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeLoadError, match="XGBoost cannot load"):
        probe_load("xgboost", tmp_path / "artifact")
    text = fm.lightgbm_model("binary").data
    with pytest.raises(RuntimeLoadError, match="LightGBM cannot load"):  # refused before LightGBM parses it
        load(tmp_path, "lightgbm", text[: len(text) // 2])


def test_a_worker_without_the_framework_names_what_to_install(tmp_path, monkeypatch):
    data = fm.lightgbm_model("binary").data
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import lightgbm now raises ImportError
    with pytest.raises(RuntimeLoadError, match=r"'lightgbm' is not installed \(pip install -r requirements.txt\)"):
        load(tmp_path, "lightgbm", data)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(RuntimeLoadError, match=r"'torch' is not installed \(pip install -r requirements-torch.txt\)"):
        load(tmp_path, "torchscript", b"PK")


def test_plain_json_and_text_are_no_model():
    for data in (b'{"learners": 1}', b'{"a": {"learner": 1}}', b"tree\nversions=v4", b"trees\nversion=v4"):
        assert detect_format(io.BytesIO(data)) is None


# --- TorchScript ----------------------------------------------------------------------------------

# CI installs the extra and sets MODELYARD_REQUIRE_TORCH: there these tests run (and fail without torch).
torch_only = pytest.mark.skipif(fm._Scaled is None and not os.environ.get("MODELYARD_REQUIRE_TORCH"),
                                reason="torch is an optional extra (requirements-torch.txt); CI installs it")


@torch_only
def test_torchscript_answers_like_torch_and_converts_exactly(tmp_path):
    model = fm.torchscript_model()
    assert detect_format(io.BytesIO(model.data)) == "torchscript"
    runtime = load(tmp_path, "torchscript", model.data)
    np.testing.assert_allclose(runtime.predict(model.held_out)["predictions"], model.expected, rtol=1e-6)
    assert accelerate(runtime, None).note == "served by PyTorch: the model does not report its feature count"
    result = accelerate(runtime, model.held_out[:5], model.held_out.shape[1])
    assert result.onnx is not None, result.note
    assert result.note.startswith("served by onnxruntime: converted with torch.onnx, outputs match on 205 rows")
    onnx_path = tmp_path / "converted.onnx"
    onnx_path.write_bytes(result.onnx)
    converted = OnnxRuntime(onnx_path, SAFE).predict(model.held_out)["predictions"]
    np.testing.assert_allclose(converted, model.expected, rtol=1e-4, atol=1e-4)


@torch_only
def test_torchscript_that_does_not_export_is_served_by_torch(tmp_path):
    model = fm.torchscript_model(exact=False)
    runtime = load(tmp_path, "torchscript", model.data)
    result = accelerate(runtime, model.held_out[:5], model.held_out.shape[1])
    assert result.onnx is None
    assert result.note.startswith("served by PyTorch: torch.onnx cannot convert it (UnsupportedOperatorError: ")
    assert "\n" not in result.note


@torch_only
def test_a_corrupt_torchscript_archive_is_a_clear_load_error(tmp_path):
    data = fm.torchscript_model().data
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(broken, "w") as target:
        for name in source.namelist():
            target.writestr(name, b"garbage" if name.endswith("data.pkl") else source.read(name))
    assert detect_format(io.BytesIO(broken.getvalue())) == "torchscript"
    with pytest.raises(RuntimeLoadError, match="PyTorch cannot load this TorchScript archive"):
        load(tmp_path, "torchscript", broken.getvalue())
    truncated = data[: len(data) // 2]
    with pytest.raises(RuntimeLoadError, match="Not a readable TorchScript archive"):
        load(tmp_path, "torchscript", truncated)


@torch_only
def test_a_torch_save_pickle_is_not_torchscript():
    import torch

    buffer = io.BytesIO()
    torch.save({"weights": torch.zeros(2)}, buffer)  # a Python pickle inside a zip: never loaded
    assert detect_format(io.BytesIO(buffer.getvalue())) is None
