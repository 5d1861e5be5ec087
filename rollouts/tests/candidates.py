"""Candidate models for rollout scenarios, built in process from the iris data."""

import numpy as np


def _iris() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def disagreeing_onnx() -> bytes:
    """Same signature as the demo iris model, but trained on shifted labels: it disagrees on nearly every row."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    features, labels = _iris()
    classifier = LogisticRegression(max_iter=1000).fit(features, (labels + 1) % 3)
    return to_onnx(classifier, features[:1].astype(np.float32),
                   options={id(classifier): {"zipmap": False}}).SerializeToString()


def one_row_only_onnx(iris_onnx: bytes) -> bytes:
    """The iris model behind a Reshape to [1, 4]: fine on one row (its validation example), fails on two."""
    import onnx
    from onnx import helper

    model = onnx.load_from_string(iris_onnx)
    graph = model.graph
    original = graph.input[0].name
    graph.input[0].name = "raw_input"
    shape = helper.make_tensor("one_row_shape", onnx.TensorProto.INT64, [2], [1, 4])
    graph.initializer.append(shape)
    graph.node.insert(0, helper.make_node("Reshape", ["raw_input", "one_row_shape"], [original]))
    return model.SerializeToString()
