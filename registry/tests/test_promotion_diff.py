"""The review diff: metrics side by side, signature compatibility, size, runtime and lineage."""

import pytest

from registry.models import ModelVersion
from registry.promotion_diff import review_diff, signature_diff

IRIS = {"inputs": {"dtype": "float32", "features": 4, "columns": ["sl", "sw", "pl", "pw"]},
        "outputs": ["labels", "probabilities"]}


def version(number: int, **fields) -> ModelVersion:
    defaults = {"format": "onnx", "size_bytes": 1000, "signature": IRIS, "metrics": {}, "lineage": {}}
    return ModelVersion(version=number, **(defaults | fields))


def with_inputs(**inputs) -> dict:
    return {"inputs": IRIS["inputs"] | inputs, "outputs": IRIS["outputs"]}


def test_the_same_signature_is_compatible():
    assert signature_diff(IRIS, dict(IRIS)) == {"breaking": False, "changes": []}


@pytest.mark.parametrize(("candidate", "field"), [
    (with_inputs(dtype="float64"), "inputs.dtype"),
    (with_inputs(features=5, columns=None), "inputs.features"),
    (with_inputs(columns=["sl", "sw", "pl", "petal_width"]), "inputs.columns"),
    (with_inputs(columns=["sw", "sl", "pl", "pw"]), "inputs.columns"),
    ({"inputs": IRIS["inputs"], "outputs": ["predictions"]}, "outputs"),
    ({}, "signature"),
], ids=["dtype", "feature-count", "column-set", "column-order", "outputs", "missing"])
def test_each_change_callers_must_adapt_to_is_breaking(candidate, field):
    diff = signature_diff(IRIS, candidate)
    assert diff["breaking"] is True
    assert field in [c["field"] for c in diff["changes"] if c["breaking"]]


def test_a_changed_column_set_says_what_came_and_went():
    change = signature_diff(IRIS, with_inputs(columns=["sl", "sw", "pl", "petal_width"]))["changes"][0]
    assert (change["added"], change["removed"]) == (["petal_width"], ["pw"])


def test_a_reordered_column_list_is_named_as_such():
    change = signature_diff(IRIS, with_inputs(columns=["sw", "sl", "pl", "pw"]))["changes"][0]
    assert change["note"] == "same columns in another order"


def test_metrics_side_by_side_with_a_delta_where_both_are_numbers():
    diff = review_diff(version(1, metrics={"accuracy": 0.5, "f1": 0.25}),
                       version(2, metrics={"accuracy": 0.75, "auc": 0.9}))
    assert diff["metrics"] == {"accuracy": {"current": 0.5, "candidate": 0.75, "delta": 0.25},
                               "auc": {"current": None, "candidate": 0.9, "delta": None},
                               "f1": {"current": 0.25, "candidate": None, "delta": None}}


def test_size_runtime_and_lineage():
    current = version(1, size_bytes=1000, format="skops", serving_format="onnx", lineage={"git_commit": "a1"})
    candidate = version(2, size_bytes=4000, format="skops", serving_format="", lineage={"git_commit": "b2",
                                                                                        "dataset": "iris-2"})
    diff = review_diff(current, candidate)
    assert diff["size_bytes"] == {"current": 1000, "candidate": 4000, "delta": 3000}
    assert diff["runtime"] == {"current": {"format": "skops", "serving_format": "onnx"},
                               "candidate": {"format": "skops", "serving_format": "skops"}, "changed": True}
    assert diff["lineage"]["changed"] == ["dataset", "git_commit"]
    assert (diff["current_version"], diff["candidate_version"]) == (1, 2)


def test_a_first_promotion_has_nothing_to_compare_with():
    diff = review_diff(None, version(1, metrics={"accuracy": 0.9}))
    assert diff["current_version"] is None and diff["signature"] == {"breaking": False, "changes": []}
    assert diff["size_bytes"]["delta"] is None and diff["runtime"]["changed"] is False
    assert diff["metrics"] == {"accuracy": {"current": None, "candidate": 0.9, "delta": None}}
