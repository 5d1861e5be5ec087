"""Load every version an alias points to before a web worker reports ready."""

import logging
import threading
import time
from typing import Any

from django.db import connection

from serving.predictors import predictors
from serving.routing import aliased_refs

logger = logging.getLogger(__name__)
state: dict[str, Any] = {"status": "idle", "loaded": 0, "failed": [], "seconds": None}
_lock = threading.Lock()


def start() -> None:
    """Begin warming in the background (once per process); /readyz answers 503 until it is done."""
    with _lock:
        if state["status"] != "idle":
            return
        state["status"] = "warming"
    threading.Thread(target=_warm, name="modelyard-warmup", daemon=True).start()


def _warm() -> None:
    started = time.perf_counter()
    try:
        refs = aliased_refs()
    except Exception:  # database not reachable yet: stay unready and let the next probe retry
        logger.exception("warm-up could not read the aliases")
        state["status"] = "idle"
        return
    finally:
        connection.close()  # this thread's own connection; nothing else will close it
    for ref in refs:
        try:
            predictors.get(ref)
            state["loaded"] += 1
        except Exception as exc:  # one broken version must not keep every other model offline
            logger.error("warm-up could not load version %s: %s", ref.id, exc)
            state["failed"].append(ref.id)
    state["seconds"] = round(time.perf_counter() - started, 3)
    state["status"] = "ready"
    logger.info("warm-up loaded %s versions in %.2fs", state["loaded"], state["seconds"])


def reset() -> None:
    """Forget a finished warm-up (tests, and a future admin 're-warm' action)."""
    with _lock:
        state.update(status="idle", loaded=0, failed=[], seconds=None)


def is_ready() -> bool:
    start()
    return state["status"] == "ready"
