"""Run a checked batch on a version: bounded concurrency, a time limit, an optional response cache."""

import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache

from core.errors import ModelFailed, ModelTimeout, ModelyardError, Unavailable
from serving import metrics
from serving.predictors import predictors
from serving.routing import ModelRoute, ServedVersion

logger = logging.getLogger(__name__)
_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _slot(model: str) -> threading.BoundedSemaphore:
    slot = _slots.get(model)
    if slot is None:
        with _slots_lock:
            slot = _slots.setdefault(model, threading.BoundedSemaphore(settings.MODELYARD_MAX_IN_FLIGHT))
    return slot


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _slots_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=settings.MODELYARD_MODEL_THREADS,
                                               thread_name_prefix="modelyard-predict")
    return _executor


def _cache_key(served: ServedVersion, batch: np.ndarray) -> str:
    digest = hashlib.blake2b(batch.tobytes(), digest_size=16)
    digest.update(f"{batch.dtype}{batch.shape}".encode())
    return f"modelyard:pred:{served.id}:{served.ref.sha256[:16]}:{digest.hexdigest()}"


def _run(route: ModelRoute, served: ServedVersion, batch: np.ndarray) -> dict[str, Any]:
    slot = _slot(route.name)
    if not slot.acquire(timeout=settings.MODELYARD_QUEUE_WAIT_SECONDS):
        raise Unavailable(f"Model {route.name!r} is at its limit of in-flight predictions; retry shortly",
                          code="overloaded")
    started, release = time.perf_counter(), True
    try:
        runtime = predictors.get(served.ref)
        timeout = settings.MODELYARD_PREDICT_TIMEOUT_SECONDS
        if not timeout or len(batch) <= settings.MODELYARD_INLINE_MAX_ROWS:
            return runtime.predict(batch)
        future = _pool().submit(runtime.predict, batch)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            # The call cannot be interrupted: it keeps its slot until it ends, so overload stays bounded.
            release = False
            future.add_done_callback(lambda _: slot.release())
            raise ModelTimeout(f"The model did not answer within {timeout} s") from None
    except ModelyardError:
        raise
    except Exception as exc:
        logger.exception("model %s v%s failed on a checked batch", route.name, served.number)
        raise ModelFailed(f"The model failed: {type(exc).__name__}") from exc
    finally:
        if release:
            slot.release()
        metrics.LATENCY.labels(route.name, served.number).observe(time.perf_counter() - started)


def predict(route: ModelRoute, served: ServedVersion, batch: np.ndarray) -> dict[str, Any]:
    if not route.response_cache_seconds:
        return _run(route, served, batch)
    key = _cache_key(served, batch)
    try:
        cached = cache.get(key)
    except Exception:  # the cache is an optimisation: an outage costs a model call, not an error
        logger.warning("response cache unavailable", exc_info=True)
        return _run(route, served, batch)
    metrics.CACHE.labels(route.name, "hit" if cached is not None else "miss").inc()
    if cached is not None:
        return cached
    outputs = _run(route, served, batch)
    try:
        cache.set(key, outputs, route.response_cache_seconds)
    except Exception:
        logger.warning("response cache unavailable", exc_info=True)
    return outputs
