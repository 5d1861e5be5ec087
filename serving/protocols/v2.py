"""Open Inference Protocol v2 (KServe / Triton), tensors in and out."""

from typing import Any

import numpy as np
from django.conf import settings

from registry.errors import ModelyardError
from serving.inputs import parse_inputs

DATATYPES = {"FP32": np.float32, "FP64": np.float64, "INT32": np.int32, "INT64": np.int64}
_BY_KIND = {"f4": "FP32", "f8": "FP64", "i4": "INT32", "i8": "INT64", "b1": "BOOL"}


def _bad(message: str) -> ModelyardError:
    return ModelyardError(message, field="inputs", code="invalid_input")


def _tensor(spec: Any) -> tuple[str, np.ndarray]:
    if not isinstance(spec, dict) or not {"name", "shape", "datatype", "data"} <= spec.keys():
        raise _bad("Each input tensor needs name, shape, datatype and data")
    dtype = DATATYPES.get(spec["datatype"])
    if dtype is None:
        raise _bad(f"Datatype {spec['datatype']!r} is not served; use one of {', '.join(DATATYPES)}")
    shape = spec["shape"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise _bad("shape must be a list of non-negative integers")
    try:
        array = np.asarray(spec["data"], dtype=dtype)
    except (ValueError, TypeError):
        raise ModelyardError(f"Tensor {spec['name']!r} data must be numbers", field="inputs",
                             code="wrong_type") from None
    if array.size != int(np.prod(shape)):
        raise _bad(f"Tensor {spec['name']!r} has {array.size} values for shape {shape}")
    return str(spec["name"]), array.reshape(shape)


def decode(body: Any, signature: dict[str, Any]) -> np.ndarray:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise _bad("The body must be an object with a non-empty 'inputs' list of tensors")
    tensors = [_tensor(spec) for spec in body["inputs"]]
    if len(tensors) == 1:
        batch = tensors[0][1]
        return parse_inputs(batch.reshape(len(batch), -1) if batch.ndim == 1 else batch, signature,
                            settings.MODELYARD_PREDICT_MAX_ROWS)
    # Several 1-column tensors: one per named feature column.
    columns = {name: array.reshape(-1).tolist() for name, array in tensors}
    return parse_inputs(columns, signature, settings.MODELYARD_PREDICT_MAX_ROWS)


def datatype(array: np.ndarray) -> str:
    return _BY_KIND.get(f"{array.dtype.kind}{array.dtype.itemsize}", "BYTES")


def encode(outputs: dict[str, Any], *, model: str, version: int, body: Any) -> dict[str, Any]:
    wanted = {o.get("name") for o in body.get("outputs") or [] if isinstance(o, dict)}
    tensors = []
    for name, value in outputs.items():
        if wanted and name not in wanted:
            continue
        array = np.asarray(value)
        data = array.ravel() if array.dtype.kind in "fiub" else [str(v) for v in array.ravel()]
        tensors.append({"name": name, "datatype": datatype(array), "shape": list(array.shape), "data": data})
    response: dict[str, Any] = {"model_name": model, "model_version": str(version), "outputs": tensors}
    if body.get("id") is not None:
        response["id"] = body["id"]
    return response
