"""Run a checked batch on a version: bounded concurrency, a time limit for every call, an optional cache.

ONNX runs in the request's thread and is stopped at its deadline (onnxruntime's terminate flag).
Runtimes that cannot be stopped (scikit-learn, pickle) run on a small model pool of which each model
may hold only its share. A version that keeps passing its deadline is suspended by the breaker.
"""

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
from modelkit import DeadlineExceeded
from modelkit.runtimes import Runtime
from serving import metrics
from serving.breaker import breaker
from serving.gate import Gate
from serving.routing import ModelRoute, ServedVersion
from serving.runtime_cache import runtimes

logger = logging.getLogger(__name__)
# Per model and process: predictions in flight, and calls on the model pool (a share of its threads).
_slots: dict[str, Gate] = {}
_pool_slots: dict[str, Gate] = {}
_occupancy: dict[str, Gate] = {}
# Per model: when each running call started (by thread), to tell a slow model from a busy one.
_running: dict[str, dict[int, float]] = {}
_slots_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _slot(table: dict[str, Gate], model: str, size: int) -> Gate:
    slot = table.get(model)
    if slot is None:
        with _slots_lock:
            slot = table.setdefault(model, Gate(size))
    return slot


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _slots_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=settings.MODELYARD_MODEL_THREADS,
                                               thread_name_prefix="modelyard-predict")
    return _executor


def _pool_share() -> int:
    """How many of the process's model threads one model may hold, so the others keep answering."""
    return max(1, int(settings.MODELYARD_MODEL_THREADS * settings.MODELYARD_MODEL_THREAD_SHARE))


def _cache_key(served: ServedVersion, batch: np.ndarray) -> str:
    digest = hashlib.blake2b(batch.tobytes(), digest_size=16)
    digest.update(f"{batch.dtype}{batch.shape}".encode())
    return f"modelyard:pred:{served.id}:{served.ref.sha256[:16]}:{digest.hexdigest()}"


def _on_pool(route: ModelRoute, runtime: Runtime, batch: np.ndarray, timeout: float) -> dict[str, Any]:
    """A runtime that cannot be stopped runs on the model pool, holding at most its share of it.

    Past the deadline the caller gets 504; the call keeps its pool slot until it really ends, so one
    stuck model can never hold more than its share of the pool.
    """
    share = _slot(_pool_slots, route.name, _pool_share())
    if not share.acquire(blocking=False):
        raise Unavailable(f"Model {route.name!r} is using all the threads it may; retry shortly", code="overloaded")
    future = _pool().submit(runtime.predict, batch)
    future.add_done_callback(lambda _: share.release())
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        raise DeadlineExceeded(f"The model did not answer within {timeout:g} s") from None


def _call(route: ModelRoute, runtime: Runtime, batch: np.ndarray) -> dict[str, Any]:
    timeout = settings.MODELYARD_PREDICT_TIMEOUT_SECONDS
    if runtime.interruptible:  # in the request's own thread, stopped at the deadline
        return runtime.predict(batch, timeout=timeout)
    if not timeout:
        return runtime.predict(batch)
    return _on_pool(route, runtime, batch, timeout)


def _thread_share() -> int:
    """How many of this process's request threads one model may occupy, running or waiting."""
    return max(1, int(settings.MODELYARD_REQUEST_THREADS * settings.MODELYARD_MODEL_THREAD_SHARE))


def _is_slow(model: str) -> bool:
    """A call of this model has been running for longer than a slow call takes."""
    started = _running.get(model)
    oldest = min(started.values(), default=None) if started else None
    return oldest is not None and time.monotonic() - oldest > settings.MODELYARD_SLOW_CALL_SECONDS


def _admit(model: str) -> Gate:
    """Hold one of the model's share of request threads.

    Past its share, a fast model's request waits briefly (calls end in milliseconds, so saturating
    load queues instead of failing); a slow model's is refused at once, because waiting would hold
    a request thread too, and that thread is what other teams' models need.
    """
    occupancy = _slot(_occupancy, model, _thread_share())
    if occupancy.acquire(blocking=False):
        return occupancy
    if not _is_slow(model) and occupancy.acquire(timeout=settings.MODELYARD_QUEUE_WAIT_SECONDS):
        return occupancy
    raise Unavailable(f"Model {model!r} is using its share of this server; retry shortly", code="overloaded")


def _run(route: ModelRoute, served: ServedVersion, batch: np.ndarray) -> dict[str, Any]:
    breaker.check(route.name, served.id, served.number)
    occupancy = _admit(route.name)
    ticket = threading.get_ident()
    _running.setdefault(route.name, {})[ticket] = time.monotonic()
    try:
        return _run_in_slot(route, served, batch)
    finally:
        _running[route.name].pop(ticket, None)
        occupancy.release()


def _run_in_slot(route: ModelRoute, served: ServedVersion, batch: np.ndarray) -> dict[str, Any]:
    slot = _slot(_slots, route.name, settings.MODELYARD_MAX_IN_FLIGHT)
    if not slot.acquire(timeout=settings.MODELYARD_QUEUE_WAIT_SECONDS):
        raise Unavailable(f"Model {route.name!r} is at its limit of in-flight predictions; retry shortly",
                          code="overloaded")
    started = time.perf_counter()
    try:
        return _call(route, runtimes.get(served.ref), batch)
    except DeadlineExceeded as exc:
        breaker.record_timeout(route.name, served.id)
        raise ModelTimeout(exc.message) from None
    except ModelyardError:
        raise
    except Exception as exc:
        logger.exception("model %s v%s failed on a checked batch", route.name, served.number)
        raise ModelFailed(f"The model failed: {type(exc).__name__}") from exc
    finally:
        slot.release()
        metrics.observe_latency(route.name, served.number, time.perf_counter() - started)


def predict_shadow(route: ModelRoute, served: ServedVersion, batch: np.ndarray) -> dict[str, Any]:
    """A shadow copy (serving/shadow.py): one per process at a time, so it takes none of the request slots
    that admit callers; it still runs under the time limit and the breaker."""
    breaker.check(route.name, served.id, served.number)
    try:
        return _call(route, runtimes.get(served.ref), batch)
    except DeadlineExceeded as exc:
        breaker.record_timeout(route.name, served.id)
        raise ModelTimeout(exc.message) from None
    except ModelyardError:
        raise
    except Exception as exc:
        raise ModelFailed(f"The model failed: {type(exc).__name__}") from exc


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
