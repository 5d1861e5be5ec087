"""The per-process caches the hot path reads, and how changes reach them."""

import threading
import time

from core import bus


def test_an_invalidation_during_a_load_keeps_the_loaded_value_out_of_the_cache():
    cache = bus.LocalCache("test-race", max_entries=10)
    started, release = threading.Event(), threading.Event()

    def slow_loader() -> str:
        started.set()
        release.wait(5)
        return "stale"

    result = []
    loader = threading.Thread(target=lambda: result.append(cache.get_or_load("k", slow_loader)))
    loader.start()
    started.wait(5)
    bus._dispatch("test-race:k")  # the change lands while the old value is being read
    release.set()
    loader.join()
    assert result == ["stale"]  # this caller gets what it read...
    assert cache.get_or_load("k", lambda: "fresh") == "fresh"  # ...but nobody after it


def test_messages_drop_only_their_own_keys_and_star_drops_all():
    cache = bus.LocalCache("test-keys", max_entries=10)
    cache.get_or_load("a", lambda: 1)
    cache.get_or_load("b", lambda: 2)
    bus._dispatch("test-keys:a")
    assert cache.get_or_load("a", lambda: 10) == 10 and cache.get_or_load("b", lambda: 20) == 2
    bus._dispatch("*")
    assert cache.get_or_load("b", lambda: 30) == 30


def test_the_cache_is_bounded():
    cache = bus.LocalCache("test-bound", max_entries=3)
    for key in "abcd":
        cache.get_or_load(key, lambda key=key: key)
    assert cache.get_or_load("a", lambda: "reloaded") == "reloaded"  # the oldest went first
    assert cache.get_or_load("d", lambda: "reloaded") == "d"


def test_entries_expire_after_the_ttl_whatever_the_bus_says():
    cache = bus.LocalCache("test-ttl", max_entries=10, ttl=0.05)
    assert cache.get_or_load("a", lambda: 1) == 1
    assert cache.get_or_load("a", lambda: 2) == 1
    time.sleep(0.06)
    assert cache.get_or_load("a", lambda: 3) == 3
