"""Turn a request's ``inputs`` into a checked 2-D numpy batch, or a 400 naming the problem.

The model never sees a batch that does not match the version's signature.
"""

from typing import Any

import numpy as np

from modelkit.errors import InputError

_NUMERIC_KINDS = {"i", "u", "f"}


def _bad(message: str, code: str = "invalid_input") -> InputError:
    return InputError(message, code=code)


def _from_columns(columns: dict[str, Any], names: list[str] | None) -> list[Any]:
    if not names:
        raise _bad("This model's signature has no column names: send inputs as a list of rows")
    missing = [n for n in names if n not in columns]
    extra = [n for n in columns if n not in names]
    if missing or extra:
        raise _bad(f"Columns must be exactly {names}; missing {missing}, unexpected {extra}")
    values = [columns[n] for n in names]
    if not all(isinstance(v, list) for v in values):
        raise _bad("Each named column must be a list of values")
    lengths = {len(v) for v in values}
    if len(lengths) != 1:
        raise _bad("All named columns must have the same length")
    return values


def _to_array(data: Any) -> np.ndarray:
    try:
        array = np.asarray(data)
    except ValueError:
        raise _bad("Rows must all have the same number of numeric features") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        if array.dtype.kind == "b":
            raise _bad("Inputs must be numbers, not booleans", "wrong_type")
        if array.dtype.kind == "O" and array.ndim != 2:
            raise _bad("Rows must all have the same number of numeric features")
        raise _bad("Inputs must be numbers; found strings, nulls or nested values", "wrong_type")
    return array


def parse_inputs(inputs: Any, signature: dict[str, Any], max_rows: int) -> np.ndarray:
    spec = signature.get("inputs") or {}
    if isinstance(inputs, dict):
        raw = _from_columns(inputs, spec.get("columns"))
        rows = len(raw[0]) if raw else 0
    elif isinstance(inputs, np.ndarray):  # already a tensor (Open Inference Protocol)
        raw, rows = inputs, (len(inputs) if inputs.ndim else 0)
    elif isinstance(inputs, list):
        raw, rows = inputs, len(inputs)
    else:
        raise _bad("'inputs' must be a list of rows or an object of named columns")
    if rows == 0:
        raise _bad("The batch is empty: send at least one row", "empty_batch")
    if rows > max_rows:
        raise _bad(f"The batch has {rows} rows; the limit is {max_rows}", "too_many_rows")
    array = _to_array(raw)
    if isinstance(inputs, dict):
        array = array.T
    if array.ndim != 2:
        raise _bad("'inputs' must be a list of rows, each a list of numbers")
    features = spec.get("features")
    if features is not None and array.shape[1] != features:
        raise _bad(f"Each row must have {features} features; got {array.shape[1]}", "wrong_feature_count")
    with np.errstate(over="ignore"):  # values too large for the dtype become inf, refused just below
        array = array.astype(spec.get("dtype", "float64"), copy=False)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise _bad("Inputs contain NaN or infinity", "not_finite")
    return array
