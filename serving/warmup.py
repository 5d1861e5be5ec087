"""Load every version an alias points to before a web worker reports ready."""

import logging
import threading
import time
from typing import Any

import numpy as np
from django.db import connection
from django.urls import get_resolver

from serving import reporting
from serving.routing import aliased_refs, route_for
from serving.runtime_cache import VersionRef, runtimes

logger = logging.getLogger(__name__)
state: dict[str, Any] = {"status": "idle", "loaded": 0, "failed": [], "seconds": None}
_lock = threading.Lock()


def start() -> None:
    """Begin warming in the background (once per process); /readyz answers 503 until it is done."""
    with _lock:
        if state["status"] != "idle":
            return
        state["status"] = "warming"
    reporting.start()
    threading.Thread(target=_warm, name="modelyard-warmup", daemon=True).start()


def _warm() -> None:
    started = time.perf_counter()
    try:
        aliased = aliased_refs()
        # Import the views and protocols now rather than on the first caller's request.
        get_resolver().resolve("/api/v1/models/warmup/aliases/warmup/predict")
    except Exception:  # database not reachable yet: stay unready and let the next probe retry
        logger.exception("warm-up could not read the aliases")
        state["status"] = "idle"
        connection.close()
        return
    for name, ref in aliased:
        if runtimes.used_bytes() >= runtimes.budget_bytes:
            # Loading more would only evict what was just loaded; the rest load on first use.
            logger.info("warm-up stopped at the runtime cache budget after %s versions", state["loaded"])
            break
        _warm_one(name, ref)
    connection.close()  # this thread's own connection; nothing else will close it
    state["seconds"] = round(time.perf_counter() - started, 3)
    state["status"] = "ready"
    logger.info("warm-up loaded %s versions in %.2fs", state["loaded"], state["seconds"])


def _warm_one(name: str, ref: VersionRef) -> None:
    try:
        route_for(name)  # the routing table, cached like every request will find it
        runtime = runtimes.get(ref)
        features = runtime.signature()["inputs"]["features"]
        if features:  # the first run of a session allocates its kernels: not on a caller's time
            runtime.predict(np.zeros((1, features)))
        state["loaded"] += 1
    except Exception as exc:  # one broken version must not keep every other model offline
        logger.error("warm-up could not load version %s of %s: %s", ref.id, name, exc)
        state["failed"].append(ref.id)


def reset() -> None:
    """Forget a finished warm-up (tests, and a future admin 're-warm' action)."""
    with _lock:
        state.update(status="idle", loaded=0, failed=[], seconds=None)


def is_ready() -> bool:
    start()
    return state["status"] == "ready"
