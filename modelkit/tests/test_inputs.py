import numpy as np
import pytest

from modelkit import InputError
from modelkit.inputs import parse_inputs

SIGNATURE = {"inputs": {"dtype": "float32", "features": 2, "columns": ["a", "b"]}}


def error(inputs, signature=SIGNATURE, max_rows=10) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_inputs(inputs, signature, max_rows)
    assert caught.value.field == "inputs"
    return caught.value


def test_rows_become_a_batch_of_the_signature_dtype():
    batch = parse_inputs([[1, 2], [3.5, 4]], SIGNATURE, 10)
    assert batch.dtype == np.float32 and batch.tolist() == [[1, 2], [3.5, 4]]


def test_named_columns_are_ordered_by_the_signature():
    assert parse_inputs({"b": [2, 4], "a": [1, 3]}, SIGNATURE, 10).tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("inputs,code", [
    ([], "empty_batch"),
    ([[1, 2, 3]], "wrong_feature_count"),
    ([[1, 2], [3]], "invalid_input"),
    ([["1", "2"]], "wrong_type"),
    ([[None, 2]], "wrong_type"),
    ([[True, False]], "wrong_type"),
    ([[1e300, 2]], "not_finite"),
    ([[1, 2]] * 11, "too_many_rows"),
    ("1,2", "invalid_input"),
    ([1, 2], "invalid_input"),
    ([[[1], [2]]], "invalid_input"),
])
def test_bad_rows_are_refused_with_a_code(inputs, code):
    assert error(inputs).code == code


def test_nan_and_infinity_are_refused():
    assert error([[float("nan"), 1]]).code == "not_finite"
    assert error([[float("inf"), 1]]).code == "not_finite"


def test_named_columns_must_match_exactly():
    assert "missing ['b']" in error({"a": [1]}).message
    assert "unexpected ['c']" in error({"a": [1], "b": [2], "c": [3]}).message
    assert error({"a": [1, 2], "b": [2]}).message == "All named columns must have the same length"


def test_named_columns_need_a_signature_with_names():
    assert "no column names" in error({"a": [1]}, {"inputs": {"dtype": "float64", "features": 1}}).message
