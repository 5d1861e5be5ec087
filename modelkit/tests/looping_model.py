"""An ONNX model that validates fine but loops as many times as its largest input value says.

The attack of the isolation issue: one row with a large value keeps onnxruntime busy for as long as
the caller likes, unless the run is stopped at its deadline. Batch fault tests use it too: rows valued
300,000 keep a worker busy long enough to kill it mid-chunk.
"""

import onnx
from onnx import TensorProto as T
from onnx import helper as h


def looping_onnx(features: int = 4) -> bytes:
    """One float input (rows x features); output ``predictions`` = the trip count, row by row."""
    body = h.make_graph(
        [h.make_node("Identity", ["cond_in"], ["cond_out"]),
         h.make_node("Add", ["v_in", "one"], ["v_out"])],
        "body",
        [h.make_tensor_value_info("i", T.INT64, []), h.make_tensor_value_info("cond_in", T.BOOL, []),
         h.make_tensor_value_info("v_in", T.FLOAT, [])],
        [h.make_tensor_value_info("cond_out", T.BOOL, []), h.make_tensor_value_info("v_out", T.FLOAT, [])],
        [h.make_tensor("one", T.FLOAT, [], [1.0])])
    nodes = [
        h.make_node("ReduceMax", ["X"], ["mx"], keepdims=0),
        h.make_node("Cast", ["mx"], ["trips"], to=T.INT64),
        h.make_node("Loop", ["trips", "true", "zero"], ["count"], body=body),
        h.make_node("ReduceSum", ["X", "axis1"], ["rowsum"], keepdims=0),
        h.make_node("Mul", ["rowsum", "zero"], ["zeros"]),
        h.make_node("Add", ["zeros", "count"], ["predictions"]),
    ]
    graph = h.make_graph(nodes, "looper", [h.make_tensor_value_info("X", T.FLOAT, [None, features])],
                         [h.make_tensor_value_info("predictions", T.FLOAT, [None])],
                         [h.make_tensor("true", T.BOOL, [], [True]), h.make_tensor("zero", T.FLOAT, [], [0.0]),
                          h.make_tensor("axis1", T.INT64, [1], [1])])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()
