"""A circuit breaker per version: one that keeps timing out is taken out of service for a while.

Per process, like the slots: each web worker decides on what it has seen. When a breaker opens, the
event is counted in Prometheus and written to the audit log, so the model's owners can see why
their model answers 503 ``model_suspended``.
"""

import logging
import threading
import time
from collections import deque

from django.conf import settings

from core.errors import Unavailable
from serving import metrics

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self) -> None:
        self._timeouts: dict[int, deque[float]] = {}
        self._open_until: dict[int, float] = {}
        self._lock = threading.Lock()

    def check(self, model: str, version_id: int, number: int) -> None:
        until = self._open_until.get(version_id)
        if until is not None and time.monotonic() < until:
            raise Unavailable(f"Version {number} of {model!r} is suspended for {until - time.monotonic():.0f} s: "
                              "it kept passing its time limit (see the audit log)", code="model_suspended")

    def record_timeout(self, model: str, version_id: int) -> bool:
        """Count a timeout; True when this one opened the breaker."""
        now, window = time.monotonic(), settings.MODELYARD_BREAKER_WINDOW_SECONDS
        with self._lock:
            recent = self._timeouts.setdefault(version_id, deque(maxlen=settings.MODELYARD_BREAKER_TIMEOUTS))
            recent.append(now)
            if len(recent) < recent.maxlen or now - recent[0] > window:
                return False
            recent.clear()
            self._open_until[version_id] = now + settings.MODELYARD_BREAKER_OPEN_SECONDS
        metrics.SUSPENSIONS.labels(model).inc()
        _record(model, version_id)
        return True

    def clear(self) -> None:
        with self._lock:
            self._timeouts.clear()
            self._open_until.clear()


def _record(model: str, version_id: int) -> None:
    from registry.services.integrity import version_suspension_record

    seconds = settings.MODELYARD_BREAKER_OPEN_SECONDS
    reason = (f"{settings.MODELYARD_BREAKER_TIMEOUTS} predictions passed the time limit within "
              f"{settings.MODELYARD_BREAKER_WINDOW_SECONDS:g} s")
    logger.warning("suspending %s version id %s for %ss: %s", model, version_id, seconds, reason)
    try:
        version_suspension_record(version_id=version_id, reason=reason, seconds=seconds)
    except Exception:  # the suspension holds even if the audit row cannot be written now
        logger.exception("could not record the suspension of version id %s", version_id)


breaker = Breaker()
