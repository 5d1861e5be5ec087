"""Messages people see (a version's status_message, predict errors) carry no server paths; the log does."""

import logging
import re

import numpy as np
import pytest

from modelkit import LoadPolicy
from modelkit.redact import redact
from modelkit.runtimes import RuntimeLoadError, load_runtime

# Any absolute POSIX path, the thing that must not reach a caller.
ABSOLUTE = re.compile(r"(?<![\w.])/[\w.-]+/")
SAFE = LoadPolicy()


def load_error(fmt: str, path, policy: LoadPolicy = SAFE) -> RuntimeLoadError:
    with pytest.raises(RuntimeLoadError) as caught:
        load_runtime(fmt, path, policy)
    return caught.value


def test_redact_replaces_the_artifact_and_any_other_absolute_path():
    text = ("Load model from /srv/data/artifacts/models/1/ab.bin failed:/onnxruntime_src/core/model.cc:180 "
            "see file:///etc/x, 'C:\\models\\m.onnx' and /tmp/tmpq/converted.onnx")
    clean = redact(text, "/srv/data/artifacts/models/1/ab.bin")
    assert "<artifact>" in clean and not ABSOLUTE.search(clean) and "C:\\" not in clean and "file:" not in clean
    assert redact("ratio 1/2, a / b, ../relative, http://example.com/x") == \
        "ratio 1/2, a / b, ../relative, http://example.com/x"


def test_onnxruntime_load_errors_name_no_server_path(tmp_path, iris_onnx, caplog):
    path = tmp_path / "deep" / "storage" / "artifact.bin"
    path.parent.mkdir(parents=True)
    # Well-formed protobuf that onnxruntime refuses: a graph whose node names a missing input.
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Add", ["x", "missing"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])])
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    assert onnx.load(str(path))  # protobuf reads it; onnxruntime is the one that refuses
    with caplog.at_level(logging.WARNING, logger="modelkit.runtimes.onnx"):
        error = load_error("onnx", path)
    assert "onnxruntime cannot load" in error.message
    assert str(tmp_path) not in error.message and not ABSOLUTE.search(error.message), error.message
    assert str(path) in caplog.text  # the full detail is logged


def test_onnxruntime_predict_errors_name_no_server_path(tmp_path, iris_onnx):
    path = tmp_path / "artifact.bin"
    path.write_bytes(iris_onnx[0])
    runtime = load_runtime("onnx", path, LoadPolicy())
    runtime.session.run = lambda *a, **k: (_ for _ in ()).throw(RuntimeError(f"failed reading {path}: /usr/x"))
    with pytest.raises(RuntimeError) as caught:
        runtime.predict(np.ones((1, 4)))
    assert str(tmp_path) not in str(caught.value) and not ABSOLUTE.search(str(caught.value))
    assert str(path) in str(caught.value.__cause__)  # the cause, for the log, keeps it


def test_skops_and_pickle_errors_name_no_server_path(tmp_path, iris_skops):
    corrupt = tmp_path / "folder" / "artifact.bin"
    corrupt.parent.mkdir()
    corrupt.write_bytes(iris_skops[:200] + b"\0" * 200)
    for fmt, policy in (("skops", SAFE), ("pickle", LoadPolicy(allow_pickle=True))):
        message = load_error(fmt, corrupt, policy).message
        assert str(tmp_path) not in message and not ABSOLUTE.search(message), message
    # joblib names the file in its own errors: the message keeps the reason, not the path.
    missing_module = tmp_path / "folder" / "other.bin"
    missing_module.write_bytes(b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x06nosuch\x8c\x01x\x93.")
    message = load_error("pickle", missing_module, LoadPolicy(allow_pickle=True)).message
    assert "nosuch" in message and str(tmp_path) not in message


def test_first_line_drops_colour_codes_and_blank_lines():
    from modelkit.redact import first_line

    text = "\n  \x1b[1m\x1b[31mDispatchError\x1b[0m: No ONNX function found  \ngraph():\n  %x = ...\n"
    assert first_line(text) == "DispatchError: No ONNX function found"
    assert first_line("x" * 600) == "x" * 500
    assert first_line(" \n\n") == ""
