"""Rows and columns are counted before numpy builds a batch (tracemalloc sees numpy's buffers too)."""

import tracemalloc

import numpy as np
import pytest

from modelkit import InputError
from modelkit.inputs import MAX_COLUMNS, column_limit, parse_inputs

KNOWN = {"inputs": {"dtype": "float64", "features": 4, "columns": None}}
UNKNOWN = {"inputs": {"dtype": "float64", "features": None, "columns": None}}
# Refusing must not build the batch: 1,000,000 values would be 8 MB as float64.
MARGIN = 512 * 1024


def refused(inputs, signature, max_rows=10_000) -> tuple[InputError, int]:
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as caught:
            parse_inputs(inputs, signature, max_rows)
        return caught.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_row_wider_than_the_model_is_refused_before_numpy_sees_it():
    error, peak = refused([[1.0] * 1_000_000], KNOWN)
    assert error.code == "wrong_feature_count" and peak < MARGIN, peak


def test_rows_wider_than_the_cap_are_refused_when_the_model_does_not_say():
    error, peak = refused([[1.0] * (MAX_COLUMNS + 1)] * 3, UNKNOWN)
    assert error.code == "too_many_columns" and peak < MARGIN, peak
    assert parse_inputs([[1.0] * MAX_COLUMNS], UNKNOWN, 10).shape == (1, MAX_COLUMNS)


def test_a_wide_model_is_not_held_to_the_cap():
    wide = {"inputs": {"dtype": "float32", "features": MAX_COLUMNS + 5, "columns": None}}
    assert parse_inputs([[0.5] * (MAX_COLUMNS + 5)], wide, 10).shape == (1, MAX_COLUMNS + 5)
    assert column_limit(wide) == MAX_COLUMNS + 5 and column_limit(UNKNOWN) == MAX_COLUMNS


def test_too_many_rows_are_refused_before_anything_is_built():
    error, peak = refused([[1.0, 2.0, 3.0, 4.0]] * 200_000, KNOWN)
    assert error.code == "too_many_rows" and peak < MARGIN, peak


def test_a_tensor_wider_than_the_cap_is_refused():
    with pytest.raises(InputError) as caught:
        parse_inputs(np.zeros((1, MAX_COLUMNS + 1)), UNKNOWN, 10)
    assert caught.value.code == "too_many_columns"
