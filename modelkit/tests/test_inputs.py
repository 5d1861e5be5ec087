import subprocess
import sys
from pathlib import Path

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


@pytest.mark.parametrize("dtype,inputs,code", [
    ("int32", [[1e30]], "out_of_range"),
    ("int32", [[2147483648]], "out_of_range"),
    ("int32", [[-2147483649.0]], "out_of_range"),
    ("int64", [[1e300]], "out_of_range"),
    ("int64", [[2.0**63]], "out_of_range"),
    ("int32", np.array([[np.nan], [np.inf]]), "not_finite"),
])
def test_integer_models_refuse_what_a_cast_would_wrap(dtype, inputs, code):
    assert error(inputs, {"inputs": {"dtype": dtype, "features": 1}}).code == code


def test_integer_models_take_the_extremes_of_their_type():
    signature = {"inputs": {"dtype": "int32", "features": 2}}
    assert parse_inputs([[-2147483648, 2147483647]], signature, 10).tolist() == [[-2147483648, 2147483647]]


def test_a_float_too_large_for_float32_is_refused_without_a_warning():
    """As a server runs it (warnings made errors, so any that escapes fails the script)."""
    script = (
        "from modelkit.inputs import parse_inputs\n"
        "from modelkit import InputError\n"
        "signature = {'inputs': {'dtype': 'float32', 'features': 2}}\n"
        "for bad in ([[1e39, 1.0]], [[float('inf'), -float('inf')]]):\n"
        "    try:\n"
        "        parse_inputs(bad, signature, 10)\n"
        "        raise SystemExit('accepted')\n"
        "    except InputError as exc:\n"
        "        assert exc.code == 'not_finite', exc.code\n"
        "assert parse_inputs([[3e38, 3e38]], signature, 10).shape == (1, 2)  # the sum overflows, the values fit\n"
    )
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", script], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
