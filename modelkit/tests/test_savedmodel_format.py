"""TensorFlow SavedModels as zip, tar or tar.gz: detected, checked before unpacking, answering like
TensorFlow on held-out rows, converted with tf2onnx only when equivalent, refused clearly when unsafe."""

import io
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from modelkit import LoadPolicy
from modelkit.archives import UnsafeArchive
from modelkit.conversion import accelerate
from modelkit.formats import detect_format
from modelkit.runtimes import RuntimeLoadError, load_runtime
from modelkit.runtimes.onnx import OnnxRuntime
from modelkit.tests import framework_models as fm

try:
    import tensorflow  # noqa: F401

    HAVE_TF = True
except ImportError:
    HAVE_TF = False
# CI installs the extra and sets MODELYARD_REQUIRE_TF: there these tests run (and fail without it).
needs_tf = pytest.mark.skipif(not HAVE_TF and not os.environ.get("MODELYARD_REQUIRE_TF"),
                              reason="tensorflow is an optional extra (requirements-tf.txt); CI installs it")
SAFE = LoadPolicy()


def load(tmp_path: Path, data: bytes):
    path = tmp_path / "artifact"
    path.write_bytes(data)
    return load_runtime("savedmodel", path, SAFE)


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tarred(members: list[tarfile.TarInfo], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for member in members:
            archive.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return buffer.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1, link: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.size, member.linkname = kind, size if kind == tarfile.REGTYPE else 0, link
    return member


@needs_tf
@pytest.mark.parametrize("task,packing", [("regression", "zip"), ("multiclass", "tgz"), ("regression", "tar")])
def test_a_savedmodel_answers_like_tensorflow_and_converts_exactly(tmp_path, task, packing):
    model = fm.savedmodel_archive(task, packing)
    assert detect_format(io.BytesIO(model.data)) == "savedmodel"
    runtime = load(tmp_path, model.data)
    outputs = runtime.predict(model.held_out)
    answer = outputs["predictions"] if task == "regression" else outputs["probabilities"]
    np.testing.assert_allclose(answer, model.expected, rtol=1e-6, atol=1e-6)
    result = accelerate(runtime, model.held_out[:5])
    assert result.note.startswith("served by onnxruntime: converted with tf2onnx, outputs match on 205 rows"), \
        result.note
    (tmp_path / "converted.onnx").write_bytes(result.onnx)
    converted = OnnxRuntime(tmp_path / "converted.onnx", SAFE).predict(model.held_out)
    np.testing.assert_allclose(converted["predictions" if task == "regression" else "probabilities"],
                               model.expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("data", [
    zipped({"model/saved_model.pb": b"x", "../outside.txt": b"x"}),
    zipped({"saved_model.pb": b"x", "/etc/cron.d/job": b"x"}),
    tarred([entry("model/saved_model.pb"), entry("model/../../outside")]),
    tarred([entry("model/saved_model.pb"), entry("model/variables", tarfile.SYMTYPE, link="/etc")], "w:gz"),
    tarred([entry("model/saved_model.pb"), entry("model/hard", tarfile.LNKTYPE, link="model/saved_model.pb")]),
])
def test_an_archive_with_a_path_outside_it_or_a_link_is_refused_before_unpacking(data):
    with pytest.raises(UnsafeArchive) as refused:
        detect_format(io.BytesIO(data))
    assert refused.value.code == "unsafe_archive" and refused.value.field == "file"


def test_archives_without_a_savedmodel_are_no_format():
    assert detect_format(io.BytesIO(zipped({"model/readme.txt": b"x"}))) is None
    assert detect_format(io.BytesIO(tarred([entry("model/readme.txt")], "w:gz"))) is None
    assert detect_format(io.BytesIO(zipped({"a/b/saved_model.pb": b"x"}))) is None  # too deep


@needs_tf
def test_a_corrupt_savedmodel_is_a_clear_load_error(tmp_path):
    with pytest.raises(RuntimeLoadError, match="TensorFlow cannot load this SavedModel"):
        load(tmp_path, zipped({"model/saved_model.pb": b"not a protobuf", "model/variables/x": b""}))
    data = fm.savedmodel_archive("regression", "tgz").data
    with pytest.raises(RuntimeLoadError, match="Not a readable SavedModel archive"):
        load(tmp_path, data[: len(data) // 2])


def test_a_worker_without_tensorflow_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorflow", None)
    with pytest.raises(RuntimeLoadError, match=r"'tensorflow' is not installed \(pip install -r requirements-tf.txt\)"):
        load(tmp_path, zipped({"model/saved_model.pb": b"x"}))
