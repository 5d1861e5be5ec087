"""In-process predict time: the model alone, no HTTP, no JSON, so the table shows what the server adds."""

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.artifacts import Artifacts

# Median over many calls; the 1,000-row call is ~100x slower, so it gets fewer.
ITERATIONS = {"1 row": 3000, "1000 rows": 300}


def _median_us(run: Callable[[np.ndarray], Any], batch: np.ndarray, iterations: int) -> float:
    for _ in range(min(100, iterations)):  # let caches, allocators and lazy initialisation settle
        run(batch)
    samples = []
    for _ in range(iterations):
        started = time.perf_counter_ns()
        run(batch)
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


def _onnx(artifacts: Artifacts) -> Callable[[np.ndarray], Any]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # As served by Modelyard and the floor: one intra-op thread per session.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(artifacts.onnx), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})


def _sklearn(artifacts: Artifacts) -> Callable[[np.ndarray], Any]:
    import skops.io as sio

    estimator = sio.load(artifacts.skops, trusted=sio.get_untrusted_types(file=artifacts.skops))
    return estimator.predict_proba


def measure(artifacts: Artifacts, models: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Median microseconds per call, by model then batch size; onnx runs on float32 as it is served."""
    results: dict[str, dict[str, float]] = {}
    for model in models:
        run, dtype = (_onnx(artifacts), np.float32) if model == "onnx" else (_sklearn(artifacts), np.float64)
        batches = {"1 row": artifacts.one_row.astype(dtype), "1000 rows": artifacts.batch.astype(dtype)}
        results[model] = {
            size: round(_median_us(run, batch, ITERATIONS[size]), 1) for size, batch in batches.items()
        }
    return results
