"""torch.export programs (.pt2): detected from their bytes, loaded only when the deployment allows
unpickling (torch.export.load unpickles parts of the archive), answering like torch on held-out rows,
exported to ONNX only when equivalent, and refused clearly when corrupt or of a shape Modelyard does
not serve."""

import io
import os
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from modelkit import LoadPolicy
from modelkit.conversion import accelerate
from modelkit.formats import UNSAFE_FORMATS, detect_format
from modelkit.runtimes import RuntimeLoadError, load_runtime
from modelkit.runtimes.onnx import OnnxRuntime
from modelkit.tests import framework_models as fm

pytestmark = pytest.mark.skipif(fm._Scaled is None and not os.environ.get("MODELYARD_REQUIRE_TORCH"),
                                reason="torch is an optional extra (requirements-torch.txt); CI installs it")
TRUSTED = LoadPolicy(allow_pickle=True)


def load(tmp_path: Path, data: bytes, policy: LoadPolicy = TRUSTED):
    path = tmp_path / "artifact"
    path.write_bytes(data)
    return load_runtime("pt2", path, policy)


def _replaced(data: bytes, suffix: str, content: bytes = b"garbage") -> bytes:
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(broken, "w") as target:
        for name in source.namelist():
            target.writestr(name, content if name.endswith(suffix) else source.read(name))
    return broken.getvalue()


class Marker:
    """Unpickling this writes the loading process's pid to a file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"import os; open({self.path!r}, 'w').write(str(os.getpid()))",))


def test_a_pt2_is_detected_and_unsafe():
    model = fm.torch_export_model()
    assert detect_format(io.BytesIO(model.data)) == "pt2"
    assert "pt2" in UNSAFE_FORMATS
    assert detect_format(io.BytesIO(fm.torchscript_model().data)) == "torchscript"


def test_torch_export_load_runs_code_chosen_by_the_archive_author(tmp_path):
    """Why .pt2 is gated like pickle: torch 2.13 unpickles the archive's sample inputs with
    weights_only=False when the safe unpickler refuses them. If a torch upgrade stops this, this test
    fails and the gate can be reconsidered (docs/formats.md)."""
    import torch

    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt2"
    path.write_bytes(fm.pt2_with_payload(fm.torch_export_model().data, Marker(marker)))
    with pytest.raises(Exception):  # noqa: B017  (the payload is no sample input; the load then fails)
        torch.export.load(str(path))
    assert marker.read_text() == str(os.getpid())


def test_even_a_pt2_without_pickles_runs_code_when_loaded(tmp_path):
    """A loader that refused the pickled entries would not be safe either: torch parses the graph's
    symbolic shapes (``Symbol('s0', ...)`` strings) with sympy.sympify, which evaluates Python."""
    import torch

    marker = tmp_path / "ran"
    symbol = re.compile(rb'"expr_str": "(Symbol\(\'s\d+\', positive=True, integer=True\))"')
    code = f"__import__('builtins').open({str(marker)!r}, 'w').write('sympify')".replace('"', "'")
    data = fm.torch_export_model().data
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        graph = next(name for name in source.namelist() if name.endswith("/models/model.json"))
        json_graph = source.read(graph)
    assert symbol.search(json_graph), "no symbolic batch size in the graph"
    tampered = symbol.sub(lambda m: b'"expr_str": "(' + code.encode() + b") * 0 + " + m.group(1) + b'"', json_graph,
                          count=1)
    path = tmp_path / "tampered.pt2"
    path.write_bytes(_replaced(data, "/models/model.json", tampered))
    torch.export.load(str(path))  # loads: the payload evaluated to a number
    assert marker.read_text() == "sympify"


def test_a_deployment_without_pickle_never_loads_a_pt2(tmp_path):
    marker = tmp_path / "ran"
    data = fm.pt2_with_payload(fm.torch_export_model().data, Marker(marker))
    with pytest.raises(RuntimeLoadError, match=r"torch.export programs \(.pt2\) unpickle parts of their archive"):
        load(tmp_path, data, LoadPolicy())
    assert not marker.exists()


def test_a_pt2_answers_like_torch_records_its_shape_and_converts_exactly(tmp_path):
    model = fm.torch_export_model()
    runtime = load(tmp_path, model.data)
    features = model.held_out.shape[1]
    assert runtime.signature() == {"inputs": {"dtype": "float32", "features": features, "columns": None},
                                   "outputs": ["predictions"]}
    np.testing.assert_allclose(runtime.predict(model.held_out)["predictions"], model.expected, rtol=1e-6)
    assert runtime.predict(model.held_out[:1])["predictions"].shape == (1,)  # a dynamic batch takes one row
    result = accelerate(runtime, model.held_out[:5])  # no declared shape needed: the program records it
    assert result.onnx is not None, result.note
    assert result.note.startswith("served by onnxruntime: converted with torch.onnx, outputs match on 205 rows")
    onnx_path = tmp_path / "converted.onnx"
    onnx_path.write_bytes(result.onnx)
    converted = OnnxRuntime(onnx_path, TRUSTED).predict(model.held_out)["predictions"]
    difference = float(np.max(np.abs(converted - model.expected)))
    print(f"\npt2 via ONNX vs torch on {len(converted)} held-out rows: max abs difference {difference:.3g}")
    np.testing.assert_allclose(converted, model.expected, rtol=1e-4, atol=1e-4)


def test_a_pt2_that_does_not_export_is_served_by_torch(tmp_path):
    model = fm.torch_export_model(exact=False)
    runtime = load(tmp_path, model.data)
    np.testing.assert_allclose(runtime.predict(model.held_out)["predictions"], model.expected, rtol=1e-6)
    result = accelerate(runtime, model.held_out[:5])
    assert result.onnx is None
    assert result.note.startswith("served by PyTorch: torch.onnx cannot convert it (DispatchError: No ONNX function "
                                  "found for <OpOverload(op='prims.bessel_j0'"), result.note
    assert "\n" not in result.note and "\x1b" not in result.note


@pytest.mark.parametrize("corrupt,message", [
    (lambda data: _replaced(data, "/models/model.json"), "JSONDecodeError: Expecting value"),
    (lambda data: _replaced(data, "/data/weights/weight_0"), "ValueError: Record data/weights/weight_0: size 7"),
    # torch.export.load logs this one and raises a generic error; the logged reason is the message.
    (lambda data: _replaced(data, "/sample_inputs/model.pt"), "UnpicklingError: pickle data was truncated"),
])
def test_a_corrupt_pt2_is_a_clear_load_error(tmp_path, corrupt, message):
    data = corrupt(fm.torch_export_model().data)
    assert detect_format(io.BytesIO(data)) == "pt2"
    with pytest.raises(RuntimeLoadError, match="^PyTorch cannot load this torch.export program: " + message):
        load(tmp_path, data)


def test_a_truncated_pt2_is_not_a_readable_archive(tmp_path):
    data = fm.torch_export_model().data
    with pytest.raises(RuntimeLoadError, match="Not a readable torch.export archive"):
        load(tmp_path, data[: len(data) // 2])


def test_a_pt2_with_a_fixed_batch_says_how_to_export_it(tmp_path):
    data = fm.torch_export_model(dynamic=False).data
    with pytest.raises(RuntimeLoadError, match=r"exported for batches of exactly 2 row\(s\); export it with a dynamic "
                                               r"batch dimension: torch.export.export\(model"):
        load(tmp_path, data)


def test_a_worker_without_torch_names_the_extra(tmp_path, monkeypatch):
    data = fm.torch_export_model().data
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(RuntimeLoadError, match=r"^This worker cannot load pt2 models: the Python package 'torch' is "
                                               r"not installed \(pip install -r requirements-torch.txt\)$"):
        load(tmp_path, data)
