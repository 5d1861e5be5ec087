"""Turn a request's ``inputs`` into a checked 2-D numpy batch, or a 400 naming the problem.

The model never sees a batch that does not match the version's signature. Rows and columns are
counted with ``len`` before numpy builds anything, so a batch too long or too wide costs nothing.
"""

import math
import warnings
from typing import Any

import numpy as np

from modelkit.errors import InputError

_NUMERIC_KINDS = {"i", "u", "f"}
# Columns per row when the signature does not say how many features the model takes.
MAX_COLUMNS = 10_000
# A value too large for a float dtype becomes infinity in the cast, and infinities make the finiteness sum
# overflow or NaN: the batch is refused as not finite, and numpy's warnings about it would only put a
# client's bad input in the server log. (Filters set once, instead of np.errstate around every cast and
# sum: 0.7 us of every prediction; pyproject.toml repeats them for pytest, which resets filters.) Casts to
# an integer dtype are range-checked before they happen, so their warnings are not silenced here.
warnings.filterwarnings("ignore", "overflow encountered in cast", RuntimeWarning, __name__)
warnings.filterwarnings("ignore", "(overflow|invalid value) encountered in reduce", RuntimeWarning, __name__)


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


def column_limit(signature: dict[str, Any], max_columns: int = MAX_COLUMNS) -> int:
    """How wide a row may be: the model's feature count when known, else ``max_columns``."""
    features = (signature.get("inputs") or {}).get("features")
    return features if isinstance(features, int) and not isinstance(features, bool) else max_columns


def _check_widths(rows: list[Any], features: int | None, max_columns: int) -> None:
    """Row lengths, read with len() before numpy sees the rows (at most max_rows of them)."""
    if not all(isinstance(row, list) for row in rows):
        return  # scalars or strings: numpy refuses them below without building anything large
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise _bad("Rows must all have the same number of numeric features")
    width = widths.pop()
    if features is not None and width != features:
        raise _bad(f"Each row must have {features} features; got {width}", "wrong_feature_count")
    if features is None and width > max_columns:
        raise _bad(f"Rows have {width} values; the limit is {max_columns}", "too_many_columns")


def parse_inputs(inputs: Any, signature: dict[str, Any], max_rows: int, max_columns: int = MAX_COLUMNS) -> np.ndarray:
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
    features = spec.get("features")
    if isinstance(inputs, list):
        _check_widths(inputs, features, max_columns)
    elif isinstance(inputs, np.ndarray) and inputs.ndim == 2 and features is None and inputs.shape[1] > max_columns:
        raise _bad(f"Rows have {inputs.shape[1]} values; the limit is {max_columns}", "too_many_columns")
    array = _to_array(raw)
    if isinstance(inputs, dict):
        array = array.T
    if array.ndim != 2:
        raise _bad("'inputs' must be a list of rows, each a list of numbers")
    if features is not None and array.shape[1] != features:
        raise _bad(f"Each row must have {features} features; got {array.shape[1]}", "wrong_feature_count")
    dtype = np.dtype(spec.get("dtype", "float64"))
    if dtype.kind in "iu" and array.dtype != dtype:
        check_integer_range(array, dtype)
    array = array.astype(dtype, copy=False)
    if array.dtype.kind == "f" and not _all_finite(array):
        raise _bad("Inputs contain NaN or infinity", "not_finite")
    return array


def integer_bounds(dtype: np.dtype) -> tuple[float, float]:
    """[low, high) of the values a cast to the integer ``dtype`` keeps, as floats (exact powers of two)."""
    info = np.iinfo(dtype)
    return float(info.min), float(info.max) + 1


def check_integer_range(array: np.ndarray, dtype: np.dtype) -> None:
    """A cast to an integer dtype silently wraps what does not fit and turns NaN into INT_MIN: refused."""
    if array.dtype.kind == "f" and not bool(np.isfinite(array).all()):
        raise _bad("Inputs contain NaN or infinity", "not_finite")
    low, high = integer_bounds(dtype)
    if array.size and (array.min() < low or array.max() >= high):
        raise _bad(f"Inputs must lie between {int(low)} and {int(high) - 1} for this model's {dtype} input",
                   "out_of_range")


def _all_finite(array: np.ndarray) -> bool:
    """NaN and infinity survive a sum, so a finite sum proves every value finite in one pass without
    a temporary array; a sum of finite values overflows only near the dtype's limit, then the exact
    check decides."""
    return math.isfinite(np.add.reduce(array, axis=None)) or bool(np.isfinite(array).all())
