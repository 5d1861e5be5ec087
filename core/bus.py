"""Cache invalidation across processes: a change committed anywhere reaches every web worker.

With Redis, changes are published on a channel that a daemon thread in each process listens to.
Embedded (no Redis), a generation counter in the shared file cache is polled instead. Either way
a listener that loses its connection clears everything it caches, so it never serves stale state.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction

logger = logging.getLogger(__name__)
CHANNEL = "modelyard:invalidate"
GENERATION_KEY = "modelyard:invalidate:generation"
POLL_SECONDS = 0.2

Handler = Callable[[str], None]  # receives "route:<model>", "user:<id>" or "*"
_handlers: list[Handler] = []
_started = False
_start_lock = threading.Lock()


def subscribe(handler: Handler) -> None:
    _handlers.append(handler)


def _dispatch(message: str) -> None:
    for handler in _handlers:
        handler(message)


def publish(message: str) -> None:
    """Invalidate here at once and everywhere once the surrounding transaction commits.

    Dropping locally before the commit is harmless (a reload in between is dropped again after it)
    and makes this process consistent with its own uncommitted writes.
    """
    _dispatch(message)
    transaction.on_commit(lambda: _send(message))


def _send(message: str) -> None:
    _dispatch(message)  # this process at once; the others through the bus
    try:
        if settings.REDIS_URL:
            _redis().publish(CHANNEL, message)
        else:
            try:
                cache.incr(GENERATION_KEY)
            except ValueError:
                cache.set(GENERATION_KEY, 1, None)
    except Exception:  # the change is committed; a bus outage must not turn it into an error
        logger.exception("could not publish invalidation %s", message)


def _redis():  # type: ignore[no-untyped-def]
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


def ensure_listening() -> None:
    global _started
    if _started:
        return
    with _start_lock:
        if _started:
            return
        if settings.REDIS_URL:
            subscribed = threading.Event()
            threading.Thread(target=_listen_redis, args=(subscribed,), name="modelyard-invalidation",
                             daemon=True).start()
            subscribed.wait(timeout=5)  # loads start only once changes can reach us
        else:
            # Read before any load: a change between this read and the load is then seen as one.
            threading.Thread(target=_poll_generation, args=(cache.get(GENERATION_KEY),),
                             name="modelyard-invalidation", daemon=True).start()
        _started = True


def _listen_redis(subscribed: threading.Event) -> None:
    while True:
        try:
            pubsub = _redis().pubsub()
            pubsub.subscribe(CHANNEL)
            for item in pubsub.listen():
                if item.get("type") == "subscribe":
                    _dispatch("*")  # anything published before the subscription took is unknown: drop all
                    subscribed.set()
                elif item.get("type") == "message":
                    _dispatch(item["data"].decode())
        except Exception:
            logger.warning("invalidation listener lost Redis; clearing caches and reconnecting", exc_info=True)
            _dispatch("*")
            time.sleep(1)


def _poll_generation(seen: object) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        try:
            current = cache.get(GENERATION_KEY)
        except Exception:
            current = object()
        if current != seen:
            seen = current
            _dispatch("*")


class LocalCache:
    """A per-process dict whose entries are dropped by bus messages ``<prefix>:<key>`` or ``*``.

    A load that overlaps an invalidation is returned but not stored, so a stale read can never
    outlive the change that made it stale.
    """

    def __init__(self, prefix: str, *, max_entries: int, ttl: float | None = None) -> None:
        self.prefix = f"{prefix}:"
        self.max_entries = max_entries
        # A backstop for changes no message announces (a bulk UPDATE, a lost publish): entries older
        # than this are reloaded whatever the bus says. None: kept until invalidated or evicted.
        self.ttl = ttl
        self._data: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()
        subscribe(self._invalidate)

    def _invalidate(self, message: str) -> None:
        with self._lock:
            self._generation += 1
            if message == "*":
                self._data.clear()
            elif message.startswith(self.prefix):
                self._data.pop(message[len(self.prefix):], None)

    def get_or_load(self, key: str, loader: Callable[[], object]) -> object:
        entry = self._data.get(key)
        now = time.monotonic()
        if entry is not None and (self.ttl is None or now - entry[0] < self.ttl):
            return entry[1]
        ensure_listening()
        generation = self._generation
        try:
            value = loader()
        except DatabaseError:
            # The database is away and the entry is only past its backstop TTL, not invalidated by a change
            # (a message drops it): keep answering from it until the database is back (docs/deployment.md).
            if entry is None:
                raise
            logger.warning("%s%s: database unavailable, serving the entry kept %.0fs ago", self.prefix, key,
                           now - entry[0])
            with self._lock:  # try again after another TTL, not on every request meanwhile
                if generation == self._generation and key in self._data:
                    self._data[key] = (now, entry[1])
            return entry[1]
        with self._lock:
            if generation == self._generation:
                self._data[key] = (now, value)
                if len(self._data) > self.max_entries:  # bounded: callers choose the keys
                    self._data.popitem(last=False)
        return value

    def drop(self, key: str) -> None:
        self._invalidate(f"{self.prefix}{key}")
