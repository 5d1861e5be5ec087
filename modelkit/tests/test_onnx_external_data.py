"""ONNX models whose tensors live in other files are refused: by the check and by the runtime."""

import io
import tracemalloc

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import _get_all_tensors, uses_external_data

from modelkit import LoadPolicy
from modelkit.onnx_check import ExternalData, NotProtobuf, onnx_external_tensor, onnx_refuse_external_data
from modelkit.runtimes import RuntimeLoadError, load_runtime


def add_model(size: int = 4, name: str = "weights") -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, size])
    weights = numpy_helper.from_array(np.arange(size, dtype=np.float32), name)
    graph = helper.make_graph([helper.make_node("Add", ["x", name], ["y"])], "add", [x], [y], [weights])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def external(model: onnx.ModelProto, tmp_path, location: str = "weights.bin") -> bytes:
    path = tmp_path / "model.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=0)
    return path.read_bytes()


def make_external(tensor: TensorProto, location: str) -> None:
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location


def in_subgraph() -> onnx.ModelProto:
    """The external tensor hides in an If node's branch: a graph inside an attribute."""
    constant = numpy_helper.from_array(np.ones(1, np.float32), "c")
    make_external(constant, "../../../../etc/hostname")
    out = helper.make_tensor_value_info("o", TensorProto.FLOAT, [1])
    branch = helper.make_graph([helper.make_node("Identity", ["c"], ["o"])], "branch", [], [out], [constant])
    node = helper.make_node("If", ["cond"], ["o"], then_branch=branch, else_branch=branch)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])], [out])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def in_constant_attribute() -> onnx.ModelProto:
    model = add_model()
    value = numpy_helper.from_array(np.ones(4, np.float32), "k")
    make_external(value, "secret.bin")
    model.graph.node.insert(0, helper.make_node("Constant", [], ["k"], value=value))
    return model


def in_sparse_initializer() -> onnx.ModelProto:
    model = add_model()
    values = numpy_helper.from_array(np.ones(2, np.float32), "sparse")
    indices = numpy_helper.from_array(np.array([0, 1], np.int64), "idx")
    make_external(values, "values.bin")
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [4]))
    return model


def in_function() -> onnx.ModelProto:
    model = add_model()
    value = numpy_helper.from_array(np.ones(1, np.float32), "f")
    make_external(value, "fn.bin")
    body = helper.make_node("Constant", [], ["out"], value=value)
    model.functions.append(helper.make_function("local", "F", [], ["out"], [body],
                                                [helper.make_opsetid("", 17)]))
    return model


def test_a_model_saved_with_external_data_is_found(tmp_path):
    data = external(add_model(), tmp_path)
    assert all(uses_external_data(t) for t in _get_all_tensors(onnx.load_from_string(data)))
    assert onnx_external_tensor(io.BytesIO(data)) == "weights"
    with pytest.raises(ExternalData) as caught:
        onnx_refuse_external_data(io.BytesIO(data))
    assert caught.value.code == "external_data" and caught.value.field == "file"


@pytest.mark.parametrize("build", [in_subgraph, in_constant_attribute, in_sparse_initializer, in_function])
def test_external_tensors_are_found_wherever_a_tensor_can_be(build):
    model = build()
    assert onnx_external_tensor(io.BytesIO(model.SerializeToString())) is not None


def test_self_contained_models_pass(iris_onnx):
    assert onnx_external_tensor(io.BytesIO(iris_onnx[0])) is None
    assert onnx_external_tensor(io.BytesIO(add_model(size=100_000).SerializeToString())) is None


def test_a_converted_forest_is_checked_quickly_and_in_bounded_memory():
    """skl2onnx writes tree ensembles as millions of unpacked attribute values; the walk skips runs of them."""
    from skl2onnx import to_onnx
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    features, labels = make_classification(5000, 10, random_state=0)
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(features, labels)
    data = to_onnx(forest, features[:1].astype(np.float32)).SerializeToString()
    tracemalloc.start()
    try:
        assert onnx_external_tensor(io.BytesIO(data)) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, f"the walk of a {len(data)} byte model took {peak} bytes"


def test_the_data_location_enum_is_read_as_protobuf_reads_it():
    """protobuf keeps an enum's low 32 bits: 2**32 + 1 is EXTERNAL to onnxruntime."""
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1])
    body = tensor.SerializeToString() + bytes([14 << 3]) + b"\x81\x80\x80\x80\x10"  # varint 2**32 + 1
    model = add_model()
    model.graph.initializer[0].ParseFromString(body)
    assert model.graph.initializer[0].data_location == TensorProto.EXTERNAL
    assert onnx_external_tensor(io.BytesIO(model.SerializeToString())) == "w"


@pytest.mark.parametrize("cut", [5, 40, 100])
def test_truncated_files_are_not_protobuf(iris_onnx, cut):
    with pytest.raises(NotProtobuf):
        onnx_external_tensor(io.BytesIO(iris_onnx[0][:cut]))


def test_the_runtime_refuses_external_data_and_reads_no_neighbour(tmp_path, monkeypatch):
    """A file that got in before the upload check must not make onnxruntime read its neighbours."""
    import onnxruntime

    data = external(add_model(), tmp_path, location="neighbour.bin")
    artifact = tmp_path / "artifact.bin"
    artifact.write_bytes(data)
    opened = []
    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *a, **k: opened.append(a))
    with pytest.raises(RuntimeLoadError) as caught:
        load_runtime("onnx", artifact, LoadPolicy())
    assert caught.value.code == "external_data" and "weights" in caught.value.message
    assert opened == []  # refused before onnxruntime was asked to open it


def test_the_runtime_loads_a_self_contained_model(tmp_path):
    path = tmp_path / "artifact.bin"
    path.write_bytes(add_model().SerializeToString())
    runtime = load_runtime("onnx", path, LoadPolicy())
    assert runtime.predict(np.ones((1, 4)))["y"].tolist() == [[1, 2, 3, 4]]
