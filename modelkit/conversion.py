"""Serve versions through onnxruntime when a conversion is proven equivalent.

At validation the model is converted (scikit-learn with skl2onnx, XGBoost and LightGBM with onnxmltools,
TorchScript and torch.export programs with torch.onnx: a runtime that converts itself has
``onnx_model(features)``), and both are run on the input example and on generated rows; only if every
output agrees within tolerance is the ONNX copy served. The original artifact stays the source of truth; a
failed or inexact conversion just keeps the framework.
"""

import copy
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modelkit.redact import first_line
from modelkit.runtimes.base import Runtime
from modelkit.runtimes.onnx import OnnxRuntime

GENERATED_ROWS = 200
# float32 inference against float64: agreement to 1e-4 is well inside any decision threshold.
TOLERANCE = 1e-4


@dataclass
class Acceleration:
    onnx: bytes | None
    note: str


def _convertible(estimator: Any) -> Any:
    # NearestNeighbors keeps a default radius that skl2onnx refuses; kneighbors never uses it.
    if type(estimator).__name__ == "NearestNeighbors" and getattr(estimator, "radius", None) is not None:
        estimator = copy.copy(estimator)
        estimator.radius = None
    return estimator


def _rows(example: np.ndarray | None, features: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    if example is None or len(example) == 0:
        return rng.normal(size=(GENERATED_ROWS, features))
    centre, spread = example.mean(axis=0), example.std(axis=0) + np.abs(example.mean(axis=0)) * 0.1 + 1e-3
    generated = rng.normal(size=(GENERATED_ROWS, features)) * spread + centre
    return np.vstack([example, generated])


def _compare(name: str, expected: Any, actual: Any) -> float:
    expected, actual = np.asarray(expected), np.asarray(actual)
    if expected.shape != actual.shape:
        raise ValueError(f"output {name!r} has shape {actual.shape}, expected {expected.shape}")
    if expected.dtype.kind in "fc":
        difference = float(np.max(np.abs(expected - actual.astype(expected.dtype)))) if expected.size else 0.0
        if not np.allclose(actual, expected, rtol=TOLERANCE, atol=TOLERANCE):
            raise ValueError(f"output {name!r} differs by up to {difference:.3g}")
        return difference
    if not np.array_equal(expected.astype(str), actual.astype(str)):
        mismatches = int(np.sum(expected.astype(str) != actual.astype(str)))
        raise ValueError(f"output {name!r} differs on {mismatches} rows")
    return 0.0


def _sklearn_onnx(runtime: Any, features: int) -> bytes:
    from skl2onnx import to_onnx

    estimator = _convertible(runtime.estimator)
    options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "predict_proba") else None
    return to_onnx(estimator, np.zeros((1, features), dtype=np.float32), options=options).SerializeToString()


def accelerate(runtime: Runtime, example: np.ndarray | None, features: int | None = None) -> Acceleration:
    """``features``: the version's feature count when the artifact does not tell (a declared input shape)."""
    framework = getattr(runtime, "framework", "scikit-learn")
    converter = getattr(runtime, "converter", "skl2onnx")
    features = runtime.signature()["inputs"]["features"] or features
    if not features:
        return Acceleration(None, f"served by {framework}: the model does not report its feature count")
    export = getattr(runtime, "onnx_model", None)
    try:
        onx = export(features) if export is not None else _sklearn_onnx(runtime, features)
    except Exception as exc:  # the converters raise many kinds of error for unsupported models
        return Acceleration(None, f"served by {framework}: {converter} cannot convert it ({type(exc).__name__}: "
                                  f"{first_line(str(exc))})")
    rows = _rows(example, features)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "converted.onnx"
        path.write_bytes(onx)
        try:
            converted = OnnxRuntime(path, runtime.policy).predict(rows)
            expected = runtime.predict(rows)
            worst = max(_compare(name, value, converted.get(name)) for name, value in expected.items())
        except Exception as exc:
            return Acceleration(None, f"served by {framework}: the ONNX conversion does not match ({exc})")
    return Acceleration(onx, f"served by onnxruntime: converted with {converter}, outputs match on {len(rows)} rows "
                             f"(max abs difference {worst:.2g})")
