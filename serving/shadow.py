"""Shadow traffic: the candidate gets a copy of a request after the caller has its answer.

A bounded queue per process and one thread that drains it: the copy never adds to the caller's
latency, never answers the caller, and when the queue is full the copy is dropped and counted.
The candidate's answer is compared row by row with the stable one (labels equal, numbers within
a tolerance) and the agreement goes into the candidate's metrics window.
"""

import logging
import queue
import threading
import time
from typing import Any

import numpy as np
from django.conf import settings

from core import windows
from core.errors import ModelyardError
from serving import engine, metrics
from serving.routing import ModelRoute, ServedVersion

logger = logging.getLogger(__name__)
# Same idea as the ONNX acceleration check, looser: two different models, not one model converted.
RTOL, ATOL = 1e-3, 1e-4
Job = tuple[ModelRoute, ServedVersion, np.ndarray, dict[str, Any]]
_queue: "queue.Queue[Job] | None" = None
_lock = threading.Lock()


def _jobs() -> "queue.Queue[Job]":
    global _queue
    if _queue is None:
        with _lock:
            if _queue is None:
                _queue = queue.Queue(maxsize=settings.MODELYARD_SHADOW_QUEUE)
                threading.Thread(target=_drain, name="modelyard-shadow", daemon=True).start()
    return _queue


def submit(route: ModelRoute, candidate: ServedVersion, batch: np.ndarray, outputs: dict[str, Any]) -> None:
    try:
        _jobs().put_nowait((route, candidate, batch, outputs))
    except queue.Full:  # the caller never waits for a shadow: drop it, and say so
        metrics.SHADOW_DROPPED.labels(route.name).inc()
        windows.accumulator.shadow(candidate.id, rows=0, agreed=0, dropped=1)


def _drain() -> None:
    jobs = _jobs()
    while True:
        job = jobs.get()
        try:
            run(*job)
        except Exception:  # a shadow must never take the thread down
            logger.exception("shadow request failed")


def run(route: ModelRoute, candidate: ServedVersion, batch: np.ndarray, expected: dict[str, Any]) -> None:
    """One shadow request: counted in the candidate's window like a real one, plus its agreement."""
    started = time.perf_counter()
    try:
        outputs = engine.predict_shadow(route, candidate, batch)
    except ModelyardError as exc:
        if exc.code == "overloaded":  # the model is busy with real callers: a dropped copy, not a failure
            windows.accumulator.shadow(candidate.id, rows=0, agreed=0, dropped=1)
            return
        windows.accumulator.request(candidate.id, time.perf_counter() - started, error=exc.status >= 500)
        windows.accumulator.shadow(candidate.id, rows=len(batch), agreed=0)
        return
    windows.accumulator.request(candidate.id, time.perf_counter() - started, error=False)
    windows.accumulator.shadow(candidate.id, rows=len(batch), agreed=agreeing_rows(expected, outputs))


def agreeing_rows(expected: dict[str, Any], actual: dict[str, Any]) -> int:
    """Rows on which every output the stable version gave is matched: labels exactly, numbers within tolerance."""
    rows = None
    for name, value in expected.items():
        if name not in actual:
            return 0
        want, got = np.asarray(value), np.asarray(actual[name])
        if got.shape != want.shape or not want.ndim:
            return 0
        if want.dtype.kind in "iub" or name in ("labels", "ids"):
            equal = want == got
        else:
            equal = np.isclose(got.astype(float), want.astype(float), rtol=RTOL, atol=ATOL)
        equal = equal.reshape(len(equal), -1).all(axis=1)
        rows = equal if rows is None else rows & equal
    return int(rows.sum()) if rows is not None else 0
