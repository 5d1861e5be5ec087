"""Open Inference Protocol v2 (KServe / Triton), tensors in and out."""

import math
import struct
from typing import Any

import numpy as np
from django.conf import settings

from core.codecs import dumps
from core.errors import ModelyardError
from modelkit.inputs import column_limit, parse_inputs

# numpy arrays have at most 64 dimensions, each below 2**63; a shape past either is the caller's error.
MAX_RANK = 64
MAX_DIMENSION = 2**63
DATATYPES = {"FP32": np.float32, "FP64": np.float64, "INT32": np.int32, "INT64": np.int64}
_BY_KIND = {"f4": "FP32", "f8": "FP64", "i4": "INT32", "i8": "INT64", "b1": "BOOL"}


def _bad(message: str, code: str = "invalid_input") -> ModelyardError:
    return ModelyardError(message, field="inputs", code=code)


def split_binary(raw: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """Triton's binary tensor extension: a JSON header of the given length, then raw tensor bytes."""
    if header_length is None:
        return raw, b""
    if not (header_length.isascii() and header_length.isdigit()) or int(header_length) > len(raw):
        raise _bad("Inference-Header-Content-Length does not fit the body")
    return raw[:int(header_length)], raw[int(header_length):]


def _params(holder: dict[str, Any]) -> dict[str, Any]:
    parameters = holder.get("parameters")
    return parameters if isinstance(parameters, dict) else {}


def _binary_data(spec: dict[str, Any], dtype: Any, blob: memoryview, offset: int) -> tuple[np.ndarray, int]:
    size = _params(spec).get("binary_data_size")
    if not isinstance(size, int) or size < 0 or offset + size > len(blob) or size % np.dtype(dtype).itemsize:
        raise _bad(f"Tensor {spec.get('name')!r} has a binary_data_size that does not fit the body")
    return np.frombuffer(blob[offset:offset + size], dtype=np.dtype(dtype).newbyteorder("<")), offset + size


def _json_data(spec: dict[str, Any], dtype: Any) -> np.ndarray:
    """Numbers only, of a kind the datatype can hold: no strings, booleans, nulls or silent truncation."""
    wrong = ModelyardError(f"Tensor {spec['name']!r} data must be numbers of its datatype", field="inputs",
                           code="wrong_type")
    try:
        array = np.asarray(spec["data"])
    except (ValueError, TypeError, OverflowError):
        raise wrong from None
    if array.size and (array.dtype.kind not in "iuf" or (array.dtype.kind == "f" and np.dtype(dtype).kind == "i")):
        raise wrong
    try:
        with np.errstate(over="ignore"):
            return array.astype(dtype)
    except (ValueError, OverflowError):
        raise wrong from None


def _tensor(spec: Any, blob: memoryview, offset: int) -> tuple[str, np.ndarray, int]:
    if not isinstance(spec, dict) or not {"name", "shape", "datatype"} <= spec.keys():
        raise _bad("Each input tensor needs name, shape, datatype and data")
    dtype = DATATYPES.get(spec["datatype"]) if isinstance(spec["datatype"], str) else None
    if dtype is None:
        raise _bad(f"Datatype {spec['datatype']!r} is not served; use one of {', '.join(DATATYPES)}")
    shape = spec["shape"]
    if not isinstance(shape, list):
        raise _bad("shape must be a list of non-negative integers")
    if len(shape) > MAX_RANK:  # numpy's own limit: past it, reshape raises
        raise _bad(f"Tensor {spec['name']!r} has {len(shape)} dimensions; at most {MAX_RANK} are supported")
    if not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < MAX_DIMENSION for d in shape):
        raise _bad(f"shape must be a list of non-negative integers below 2**63; got {_short(shape)}")
    if "data" in spec:
        array = _json_data(spec, dtype)
    else:
        array, offset = _binary_data(spec, dtype, blob, offset)
    if array.size != math.prod(shape):  # math.prod: numpy's product would wrap around for huge shapes
        raise _bad(f"Tensor {spec['name']!r} has {array.size} values for shape {_short(shape)}")
    if array.size == 0:  # an empty batch, refused by decode; numpy refuses shapes such as [0, 2**62, 4]
        return str(spec["name"]), array.reshape(-1), offset
    return str(spec["name"]), array.reshape(shape), offset


def _short(shape: list[Any]) -> str:
    text = str(shape)
    return text if len(text) <= 200 else text[:200] + "...]"


def decode(body: Any, signature: dict[str, Any], binary: bytes = b"") -> np.ndarray:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise _bad("The body must be an object with a non-empty 'inputs' list of tensors")
    max_rows, max_columns = settings.MODELYARD_PREDICT_MAX_ROWS, column_limit(signature)
    if len(body["inputs"]) > max_columns:  # several tensors are one column each
        raise _bad(f"The request has {len(body['inputs'])} input tensors; this model takes at most {max_columns}",
                   "too_many_columns")
    blob, offset, tensors = memoryview(binary), 0, []
    for spec in body["inputs"]:
        name, array, offset = _tensor(spec, blob, offset)
        tensors.append((name, array))
    if any(array.size == 0 for _, array in tensors):
        raise ModelyardError("The batch is empty: send at least one row", field="inputs", code="empty_batch")
    if len(tensors) == 1:
        batch = tensors[0][1]
        return parse_inputs(batch.reshape(len(batch), -1) if batch.ndim == 1 else batch, signature, max_rows)
    # Several 1-column tensors: one per named feature column.
    longest = max(array.size for _, array in tensors)
    if longest > max_rows:
        raise _bad(f"The batch has {longest} rows; the limit is {max_rows}", "too_many_rows")
    columns = {name: array.reshape(-1).tolist() for name, array in tensors}
    return parse_inputs(columns, signature, max_rows)


def datatype(array: np.ndarray) -> str:
    return _BY_KIND.get(f"{array.dtype.kind}{array.dtype.itemsize}", "BYTES")


def encode(outputs: dict[str, Any], *, model: str, version: int, body: Any) -> dict[str, Any]:
    wanted = {o.get("name") for o in _requested(body) if isinstance(o.get("name"), str)}
    tensors = []
    for name, value in outputs.items():
        if wanted and name not in wanted:
            continue
        array = np.asarray(value)
        data = array.ravel() if array.dtype.kind in "fiub" else [str(v) for v in array.ravel()]
        tensors.append({"name": name, "datatype": datatype(array), "shape": list(array.shape), "data": data})
    response: dict[str, Any] = {"model_name": model, "model_version": str(version), "outputs": tensors}
    if isinstance(body.get("id"), str):
        response["id"] = body["id"]
    return response


def wants_binary(body: Any) -> bool:
    """Triton's client asks for binary outputs unless it names its outputs."""
    if not isinstance(body, dict):
        return False
    if _params(body).get("binary_data_output"):
        return True
    return any(_params(o).get("binary_data") for o in _requested(body))


def _requested(body: dict[str, Any]) -> list[dict[str, Any]]:
    outputs = body.get("outputs")
    return [o for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []


def _tensor_bytes(data: Any, datatype: str) -> bytes:
    if datatype == "BYTES":
        encoded = [str(item).encode() for item in data]
        return b"".join(struct.pack("<I", len(item)) + item for item in encoded)
    little_endian = np.dtype({"FP32": "<f4", "FP64": "<f8", "INT32": "<i4", "INT64": "<i8", "BOOL": "?"}[datatype])
    return np.ascontiguousarray(data, dtype=little_endian).tobytes()


def binary_body(response: dict[str, Any]) -> tuple[bytes, int]:
    """Move every output's data behind the JSON header; returns the body and the header length."""
    blobs = []
    for tensor in response["outputs"]:
        blob = _tensor_bytes(tensor.pop("data"), tensor["datatype"])
        tensor["parameters"] = {"binary_data_size": len(blob)}
        blobs.append(blob)
    header = dumps(response)
    return header + b"".join(blobs), len(header)
