"""TensorFlow Serving's REST API (KServe's "v1" protocol): ``instances`` or ``inputs`` in, TF Serving's answer out.

Request (https://www.tensorflow.org/tfx/serving/api_rest#predict_api):
- row format ``{"instances": [...]}``: each instance is a row of numbers, a scalar (one-feature models),
  an object of named columns (``{"a": 1.0, "b": 2.0}``) or one named input (``{"x": [1.0, 2.0]}``);
- columnar format ``{"inputs": ...}``: a tensor (list of rows), or an object of named columns/one named tensor.
Answer: the row format gets ``{"predictions": [...]}``, one entry per row (a value when the model has one
output, else an object of named outputs); the columnar format gets ``{"outputs": ...}`` (the tensor when
the model has one output, else an object of named tensors). Errors are ``{"error": "<message>"}``.
"""

from typing import Any

import numpy as np
from django.conf import settings

from core.errors import ModelyardError
from modelkit.inputs import parse_inputs

SIGNATURES = (None, "serving_default", "predict")


def _bad(message: str, field: str = "inputs") -> ModelyardError:
    return ModelyardError(message, field=field, code="invalid_input")


def _max_rows() -> int:
    return settings.MODELYARD_PREDICT_MAX_ROWS


def _named(items: dict[str, Any], columns: list[str] | None, what: str) -> Any:
    """One named tensor (``{"x": rows}``) is that tensor; several names are the model's columns."""
    if len(items) == 1 and not columns:
        return next(iter(items.values()))
    if not columns:
        raise _bad(f"{what} names several inputs, but this model takes one tensor: send lists of numbers")
    return items


def _instances(instances: Any, columns: list[str] | None) -> Any:
    if not isinstance(instances, list):
        raise _bad("'instances' must be a list, one entry per row", "instances")
    if len(instances) > _max_rows():
        raise _bad(f"The batch has {len(instances)} rows; the limit is {_max_rows()}", "instances")
    if not instances or not isinstance(instances[0], dict):
        return _scalar_rows(instances)
    if not all(isinstance(row, dict) for row in instances):
        raise _bad("Instances must all be objects, or all be lists of numbers", "instances")
    keys = list(instances[0])
    if len(keys) == 1 and not columns:  # one named input per row: {"x": [f1, f2, ...]}
        key = keys[0]
        try:
            return [row[key] if isinstance(row[key], list) else [row[key]] for row in instances]
        except KeyError:
            raise _bad(f"Every instance must name the input {key!r}", "instances") from None
    names = columns or keys  # no column names in the signature: the instances' own order
    for row in instances:
        if row.keys() != set(names):
            raise _bad(f"Each instance must name exactly the inputs {names}; got {list(row)[:20]}", "instances")
    return {name: [row[name] for row in instances] for name in names}


def decode(body: Any, signature: dict[str, Any]) -> np.ndarray:
    if not isinstance(body, dict) or ("instances" in body) == ("inputs" in body):
        raise _bad("The body must be an object with either 'instances' (row format) or 'inputs' (columnar format)")
    if body.get("signature_name") not in SIGNATURES:
        raise _bad(f"Unknown signature_name {body['signature_name']!r}; models here serve 'serving_default'",
                   "signature_name")
    columns = (signature.get("inputs") or {}).get("columns")
    if "instances" in body:
        inputs = _instances(body["instances"], columns)
    else:
        inputs = body["inputs"]
        if isinstance(inputs, dict):
            inputs = _named(inputs, columns, "'inputs'")
    if isinstance(inputs, dict) and not columns:
        inputs = _rows(inputs)
    return parse_inputs(_scalar_rows(inputs), signature, _max_rows())


def _scalar_rows(inputs: Any) -> Any:
    """Scalars are the rows of a one-feature model (TF Serving's ``[1.0, 2.0]``)."""
    scalars = isinstance(inputs, list) and 0 < len(inputs) <= _max_rows()
    if scalars and not any(isinstance(row, list | dict) for row in inputs):
        return [[row] for row in inputs]
    return inputs


def _rows(columns: dict[str, Any]) -> list[list[Any]]:
    """Named columns for a model whose signature names none: rows in the request's column order."""
    lengths = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
    if len(lengths) != 1 or -1 in lengths:
        raise _bad("Each named input must be a list, all of the same length")
    if lengths.pop() > _max_rows():
        raise _bad(f"The batch has more than {_max_rows()} rows; the limit is {_max_rows()}")
    return [list(row) for row in zip(*columns.values(), strict=True)]


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def encode(outputs: dict[str, Any], body: Any) -> dict[str, Any]:
    plain = {name: _plain(value) for name, value in outputs.items()}
    columnar = isinstance(body, dict) and "inputs" in body
    if len(plain) == 1:
        only = next(iter(plain.values()))
        return {"outputs": only} if columnar else {"predictions": only}
    if columnar:
        return {"outputs": plain}
    names = list(plain)
    return {"predictions": [dict(zip(names, row, strict=True)) for row in zip(*plain.values(), strict=True)]}
