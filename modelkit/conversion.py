"""Serve scikit-learn versions through onnxruntime when a conversion is proven equivalent.

At validation the estimator is converted with skl2onnx and both are run on the input example and on
generated rows; only if every output agrees within tolerance is the ONNX copy served. The original
artifact stays the source of truth; a failed or inexact conversion just keeps scikit-learn.
"""

import copy
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modelkit.runtimes.estimator import EstimatorRuntime
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


def accelerate(runtime: EstimatorRuntime, example: np.ndarray | None) -> Acceleration:
    features = runtime.signature()["inputs"]["features"]
    if not features:
        return Acceleration(None, "served by scikit-learn: the estimator does not report its feature count")
    estimator = _convertible(runtime.estimator)
    try:
        from skl2onnx import to_onnx

        options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "predict_proba") else None
        onx = to_onnx(estimator, np.zeros((1, features), dtype=np.float32), options=options).SerializeToString()
    except Exception as exc:  # the converter raises many kinds of error for unsupported estimators
        return Acceleration(None, f"served by scikit-learn: skl2onnx cannot convert it ({type(exc).__name__}: {exc})")
    rows = _rows(example, features)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "converted.onnx"
        path.write_bytes(onx)
        try:
            converted = OnnxRuntime(path, runtime.policy).predict(rows)
            expected = runtime.predict(rows)
            worst = max(_compare(name, value, converted.get(name)) for name, value in expected.items())
        except Exception as exc:
            return Acceleration(None, f"served by scikit-learn: the ONNX conversion does not match ({exc})")
    return Acceleration(onx, f"served by onnxruntime: converted with skl2onnx, outputs match on {len(rows)} rows "
                             f"(max abs difference {worst:.2g})")
