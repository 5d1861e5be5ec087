"""Per-version request metrics shared across processes: requests, errors, a latency histogram, shadow agreement.

The hot path adds to a per-process accumulator (a dict update under a lock, no I/O). A background
thread in each web process flushes it once a second into one hash per version per second: Redis
``HINCRBY`` when ``REDIS_URL`` is set, the shared Django cache otherwise (best-effort: the file cache
has no atomic increment, so two processes flushing the same second at the same instant may lose one
update; embedded mode is for one machine). Readers sum the seconds of a window.
"""

import bisect
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)
# Upper bounds in milliseconds, 25% apart from 20 us (an ONNX call on a few rows) to about 16 s; p95 is
# the upper bound of the bucket it falls in.
BUCKETS_MS: tuple[float, ...] = tuple(round(0.02 * 1.25**i, 4) for i in range(62)) + (float("inf"),)
KEY = "modelyard:vw:{version}:{second}"
KEEP_SECONDS = 2 * 3600  # long enough for the per-minute roll-up to catch up after an outage
Counts = dict[str, int]


class Accumulator:
    """This process's counts since the last flush, keyed by (version id, epoch second)."""

    def __init__(self) -> None:
        self._data: dict[tuple[int, int], Counts] = defaultdict(lambda: defaultdict(int))
        self._lock = threading.Lock()

    def request(self, version_id: int, seconds: float, *, error: bool) -> None:
        bucket = bisect.bisect_left(BUCKETS_MS, seconds * 1000)
        with self._lock:
            counts = self._data[(version_id, int(time.time()))]
            counts["n"] += 1
            counts[f"b{bucket}"] += 1
            if error:
                counts["e"] += 1

    def shadow(self, version_id: int, *, rows: int, agreed: int, dropped: int = 0) -> None:
        with self._lock:
            counts = self._data[(version_id, int(time.time()))]
            counts["s"] += rows
            counts["a"] += agreed
            counts["d"] += dropped

    def drain(self) -> dict[tuple[int, int], Counts]:
        with self._lock:
            data, self._data = self._data, defaultdict(lambda: defaultdict(int))
        return data


accumulator = Accumulator()
_client: Any = None


def _redis() -> Any:
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


def flush(source: Accumulator = accumulator) -> None:
    """Write what this process counted; on a store outage the counts are dropped (windows then hold)."""
    data = source.drain()
    if not data:
        return
    try:
        if settings.REDIS_URL:
            pipe = _redis().pipeline(transaction=False)
            for (version, second), counts in data.items():
                key = KEY.format(version=version, second=second)
                for name, value in counts.items():
                    pipe.hincrby(key, name, value)
                pipe.expire(key, KEEP_SECONDS)
            pipe.execute()
        else:
            for (version, second), counts in data.items():
                key = KEY.format(version=version, second=second)
                stored = cache.get(key) or {}
                for name, value in counts.items():
                    stored[name] = stored.get(name, 0) + value
                cache.set(key, stored, KEEP_SECONDS)
    except Exception:
        logger.warning("could not flush the metrics window; %s entries dropped", len(data), exc_info=True)


@dataclass
class Window:
    version: int
    start: int
    end: int
    counts: Counts = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return self.counts.get("n", 0)

    @property
    def errors(self) -> int:
        return self.counts.get("e", 0)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def shadow_rows(self) -> int:
        return self.counts.get("s", 0)

    @property
    def agreement(self) -> float | None:
        return self.counts.get("a", 0) / self.shadow_rows if self.shadow_rows else None

    def percentile_ms(self, q: float) -> float | None:
        """The upper bound of the bucket holding the q-th request (a slight overestimate, never under)."""
        if not self.requests:
            return None
        rank, seen = q * self.requests, 0
        for index, bound in enumerate(BUCKETS_MS):
            seen += self.counts.get(f"b{index}", 0)
            if seen >= rank:
                return bound if bound != float("inf") else BUCKETS_MS[-2]
        return BUCKETS_MS[-2]

    def evidence(self) -> dict[str, Any]:
        return {"version": self.version, "from": self.start, "to": self.end, "requests": self.requests,
                "errors": self.errors, "error_rate": round(self.error_rate, 5),
                "p50_ms": self.percentile_ms(0.5), "p95_ms": self.percentile_ms(0.95),
                "shadow_rows": self.shadow_rows, "agreement": self.agreement,
                "shadow_dropped": self.counts.get("d", 0)}


def read(version_id: int, start: float, end: float) -> Window:
    """The sum of whole seconds in [start, end) for one version."""
    seconds = range(int(start), int(end))
    keys = [KEY.format(version=version_id, second=s) for s in seconds]
    window = Window(version=version_id, start=int(start), end=int(end))
    totals: Counts = defaultdict(int)
    if settings.REDIS_URL:
        pipe = _redis().pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        rows = [{k.decode(): int(v) for k, v in row.items()} for row in pipe.execute()]
    else:
        rows = list(cache.get_many(keys).values())
    for row in rows:
        for name, value in row.items():
            totals[name] += value
    window.counts = dict(totals)
    return window
