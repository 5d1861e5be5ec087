"""A per-process cache keeps answering from an entry past its TTL while the database is away (make drills)."""

import time

import pytest
from django.db import OperationalError

from core import bus


def away() -> object:
    raise OperationalError("connection refused")


def test_an_entry_past_its_ttl_is_served_while_the_database_is_away_then_reloaded():
    cache = bus.LocalCache("test-away", max_entries=10, ttl=0.05)
    assert cache.get_or_load("k", lambda: "kept") == "kept"
    time.sleep(0.06)
    assert cache.get_or_load("k", away) == "kept"
    # Not retried on every request meanwhile: the next load waits for another TTL.
    assert cache.get_or_load("k", lambda: pytest.fail("reloaded before the TTL")) == "kept"
    time.sleep(0.06)
    assert cache.get_or_load("k", lambda: "fresh") == "fresh"


def test_an_invalidated_or_unknown_entry_is_never_served_stale():
    cache = bus.LocalCache("test-away-gone", max_entries=10, ttl=60)
    cache.get_or_load("k", lambda: "old")
    cache.drop("k")  # a change was announced: the old value must not come back
    with pytest.raises(OperationalError):
        cache.get_or_load("k", away)
    with pytest.raises(OperationalError):
        cache.get_or_load("never-loaded", away)


def test_other_errors_are_not_hidden():
    cache = bus.LocalCache("test-away-bug", max_entries=10, ttl=0.01)
    cache.get_or_load("k", lambda: "kept")
    time.sleep(0.02)
    with pytest.raises(ZeroDivisionError):
        cache.get_or_load("k", lambda: 1 / 0)
