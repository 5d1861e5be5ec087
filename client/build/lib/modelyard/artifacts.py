"""What a push sends: a file, bytes, or an in-memory model saved in a format the server loads safely.

A scikit-learn estimator becomes skops (never pickle), an ONNX ``ModelProto`` its serialized bytes. A
sample of inputs gives the signature (column names, dtype, width) and a small input example, which the
server runs once while it validates the version. Files are checked here first, so a damaged one is
refused before anything reaches the server.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from modelyard.errors import UsageError

DTYPES = ("float32", "float64", "int64", "int32")
EXAMPLE_ROWS = 5


@dataclass
class Artifact:
    """One upload: the file (on disk or in memory) and the metadata that goes with it."""

    filename: str
    path: Path | None = None
    data: bytes | None = None
    signature: dict[str, Any] = field(default_factory=dict)
    input_example: Any = None
    lineage: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data or b"")

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.path is not None:
            with self.path.open("rb") as handle:
                yield handle
        else:
            yield io.BytesIO(self.data or b"")


def _need(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"This needs {module}: pip install 'modelyard-client[{extra}]'") from None


def _is_onnx_proto(obj: Any) -> bool:
    return type(obj).__name__ == "ModelProto" and hasattr(obj, "SerializeToString")


def _is_estimator(obj: Any) -> bool:
    return hasattr(obj, "fit") and (hasattr(obj, "predict") or hasattr(obj, "transform")
                                    or hasattr(obj, "kneighbors"))


def skops_bytes(estimator: Any) -> bytes:
    sio = _need("skops.io", "sklearn")
    return sio.dumps(estimator)


def artifact_from(model: Any, sample: Any = None) -> Artifact:
    """An Artifact from a path, bytes, an ONNX ModelProto or a scikit-learn estimator."""
    if isinstance(model, Artifact):
        artifact = model
    elif isinstance(model, str | Path):
        path = Path(model)
        if path.is_dir():
            from modelyard.mlflow import read_mlflow_model

            artifact = read_mlflow_model(path)
        else:
            artifact = Artifact(filename=path.name, path=path)
            check_file(artifact)
    elif isinstance(model, bytes | bytearray):
        artifact = Artifact(filename="model.bin", data=bytes(model))
        check_file(artifact)
    elif _is_onnx_proto(model):
        artifact = Artifact(filename="model.onnx", data=model.SerializeToString())
    elif _is_estimator(model):
        artifact = Artifact(filename="model.skops", data=skops_bytes(model))
        columns = getattr(model, "feature_names_in_", None)
        if columns is not None and sample is None:
            artifact.signature = {"inputs": {"columns": [str(c) for c in columns]}}
    else:
        raise UsageError(f"Cannot push a {type(model).__name__}: give a file, an MLflow model directory, "
                         "a scikit-learn estimator or an ONNX ModelProto")
    if sample is not None:
        artifact.signature, artifact.input_example = signature_from_sample(sample), example_from_sample(sample)
    return artifact


# --- checks of files before they are sent ------------------------------------------------------

def _looks_like_onnx(head: bytes) -> bool:
    # ModelProto starts with ir_version (field 1, varint): 0x08 and a small number.
    return len(head) >= 2 and head[0] == 0x08 and 1 <= head[1] <= 30


def check_file(artifact: Artifact) -> None:
    """Refuse what is certainly broken; leave everything else to the server, which detects formats itself."""
    if artifact.path is not None and not artifact.path.is_file():
        raise UsageError(f"{artifact.path}: no such file")
    if artifact.size == 0:
        raise UsageError(f"{artifact.filename} is empty")
    with artifact.open() as handle:
        head = handle.read(64)
        handle.seek(0)
        if head.startswith(b"PK\x03\x04"):
            _check_zip(artifact.filename, handle)
        elif _looks_like_onnx(head) or artifact.filename.endswith(".onnx"):
            _check_onnx(artifact.filename, handle.read())


def _check_zip(name: str, handle: BinaryIO) -> None:
    try:
        with zipfile.ZipFile(handle) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise UsageError(f"{name} is a damaged zip archive: {exc}") from None
    if damaged is not None:
        raise UsageError(f"{name} is a damaged zip archive: {damaged} fails its checksum")


def _check_onnx(name: str, data: bytes) -> None:
    try:
        import onnx
    except ImportError:  # the server checks it; without onnx here there is nothing better to do
        return
    try:
        onnx.checker.check_model(onnx.load_model_from_string(data))
    except Exception as exc:  # DecodeError, ValidationError: both mean the same to the user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{name} is not a valid ONNX model: {first}") from None


# --- signature and input example from a sample of inputs ------------------------------------------

def _dtype_name(dtype: Any) -> str:
    name = str(dtype)
    return name if name in DTYPES else "float64"


def signature_from_sample(sample: Any) -> dict[str, Any]:
    """{"inputs": {"dtype", "features", "columns"}} from a DataFrame, a 2-D array, rows, or named columns."""
    if hasattr(sample, "columns") and hasattr(sample, "dtypes"):  # a pandas DataFrame
        dtypes = {_dtype_name(d) for d in sample.dtypes}
        columns = [str(c) for c in sample.columns]
        return {"inputs": {"dtype": dtypes.pop() if len(dtypes) == 1 else "float64", "features": len(columns),
                           "columns": columns}}
    if hasattr(sample, "shape") and hasattr(sample, "dtype"):  # a numpy array
        if len(sample.shape) != 2:
            raise UsageError(f"A sample must be 2-D (rows of features); this one has shape {tuple(sample.shape)}")
        return {"inputs": {"dtype": _dtype_name(sample.dtype), "features": int(sample.shape[1]), "columns": None}}
    if isinstance(sample, dict):
        columns = [str(c) for c in sample]
        return {"inputs": {"dtype": "float64", "features": len(columns), "columns": columns}}
    if isinstance(sample, list | tuple) and sample and isinstance(sample[0], list | tuple):
        return {"inputs": {"dtype": "float64", "features": len(sample[0]), "columns": None}}
    raise UsageError("A sample must be a DataFrame, a 2-D array, a list of rows or a dict of columns")


def example_from_sample(sample: Any, rows: int = EXAMPLE_ROWS) -> list[list[Any]]:
    """The first few rows, as plain JSON numbers."""
    if hasattr(sample, "columns") and hasattr(sample, "to_numpy"):
        sample = sample.to_numpy()
    if hasattr(sample, "tolist"):
        return sample[:rows].tolist()
    if isinstance(sample, dict):
        columns = list(sample.values())
        return [list(values) for values in zip(*(c[:rows] for c in columns), strict=True)]
    return [list(row) for row in sample[:rows]]
