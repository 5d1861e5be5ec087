"""Prometheus metrics of the serving path. Under gunicorn, PROMETHEUS_MULTIPROC_DIR aggregates workers.

The two metrics every prediction touches (its count and its model time) are tallied in this process
and written to Prometheus in bulk (``flush``): every ``FLUSH_SECONDS`` by one thread, and before this
process answers a scrape. Written one by one, they cost a prediction three acquisitions of
prometheus_client's one process-wide lock, each with a ``getpid`` and an mmap write: 25 us of a
request's CPU under load (docs/performance.md); a tally is one ``deque.append`` (thread-safe, no
lock). Another process's tally reaches a scrape within ``FLUSH_SECONDS``.
"""

import logging
import os
import threading
import time
from collections import deque

from prometheus_client import Counter, Gauge, Histogram

PREDICTIONS = Counter("modelyard_predictions", "Prediction requests answered", ["model", "version", "protocol"])
# By code only: labelling by the requested model name would let callers create unbounded series.
PREDICTION_ERRORS = Counter("modelyard_prediction_errors", "Serving requests refused or failed", ["code"])
LATENCY = Histogram(
    "modelyard_prediction_seconds", "Time in the model (cache hits excluded)", ["model", "version"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CACHE = Counter("modelyard_response_cache", "Response cache lookups", ["model", "result"])
LOADED = Gauge("modelyard_loaded_models", "Versions loaded in this process", multiprocess_mode="livesum")
LOAD_SECONDS = Histogram("modelyard_model_load_seconds", "Time to load a version into memory", ["format"],
                         buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
SUSPENSIONS = Counter("modelyard_model_suspensions", "Versions taken out of service by the circuit breaker",
                      ["model"])
SHADOW_DROPPED = Counter("modelyard_shadow_dropped", "Shadow copies dropped because the queue was full", ["model"])

FLUSH_SECONDS = 0.5
logger = logging.getLogger(__name__)
_PREDICTION, _LATENCY = 0, 1
_tally: deque[tuple[int, tuple[str, ...], float]] = deque()
_flusher: list[threading.Thread] = []  # this process's flush thread; a forked worker starts its own
_flush_lock = threading.Lock()


def count_prediction(model: str, version: int, protocol: str) -> None:
    _tally.append((_PREDICTION, (model, str(version), protocol), 0.0))
    _ensure_flusher()


def observe_latency(model: str, version: int, seconds: float) -> None:
    _tally.append((_LATENCY, (model, str(version)), seconds))
    _ensure_flusher()


def _ensure_flusher() -> None:
    if not _flusher:
        with _flush_lock:
            if not _flusher:
                _flusher.append(threading.Thread(target=_flush_forever, name="metrics-flush", daemon=True))
                _flusher[0].start()


def _after_fork() -> None:
    global _flush_lock
    _flusher.clear()
    _tally.clear()  # the parent's, which the parent writes
    _flush_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            flush()
        except Exception:  # a metrics file that cannot be written must not stop the next flush
            logger.warning("metrics flush failed", exc_info=True)


def flush() -> None:
    """Write what was tallied: each label set's count once, each histogram bucket's count once."""
    with _flush_lock:  # one flusher at a time: a scrape's and the thread's
        counts: dict[tuple[str, ...], int] = {}
        latencies: dict[tuple[str, ...], list[float]] = {}
        while True:
            try:
                kind, labels, seconds = _tally.popleft()
            except IndexError:
                break
            if kind == _PREDICTION:
                counts[labels] = counts.get(labels, 0) + 1
            else:
                latencies.setdefault(labels, []).append(seconds)
        for labels, count in counts.items():
            PREDICTIONS.labels(*labels).inc(count)
        for labels, observed in latencies.items():
            _observe_all(LATENCY.labels(*labels), observed)


def _observe_all(child: Histogram, observed: list[float]) -> None:
    """``observe`` for many values at once: the sum and each bucket written once (prometheus_client 0.26's
    histogram keeps them as ``_sum`` and ``_buckets``; serving/tests/test_metrics_tally.py checks the result
    against ``observe`` itself)."""
    bounds = child._upper_bounds
    buckets = [0] * len(bounds)
    for amount in observed:
        for i, bound in enumerate(bounds):
            if amount <= bound:
                buckets[i] += 1
                break
    child._sum.inc(sum(observed))
    for i, count in enumerate(buckets):
        if count:
            child._buckets[i].inc(count)
