"""Loaded-version heartbeats and per-version metric windows, with Redis and with the embedded file store."""

import time

import pytest

from core import presence, windows


@pytest.fixture(params=["redis", "embedded"])
def store(request, settings, tmp_path):
    if request.param == "embedded":
        settings.REDIS_URL = ""
        settings.DATA_DIR = tmp_path
    elif not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    windows._client = None
    yield request.param
    windows._client = None


def test_live_reporters_and_what_they_loaded(store):
    presence.report("host:1", [3, 4, 4])
    presence.report("host:2", [3])
    live = presence.live()
    assert live["host:1"] == {3, 4} and live["host:2"] == {3}


def test_a_reporter_that_stops_drops_out_after_the_ttl(store, monkeypatch):
    presence.report("host:gone", [7])
    later = time.time() + presence.TTL + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert "host:gone" not in presence.live()  # embedded: the file's age; Redis: the sorted set's score


def test_windows_sum_every_process_and_second(store):
    version = 900_000 + int(time.time() * 1000) % 100_000  # no leftovers from another run
    first, second = windows.Accumulator(), windows.Accumulator()
    for source, seconds in ((first, 0.0005), (second, 0.2)):
        for _ in range(10):
            source.request(version, seconds, error=source is second)
    windows.flush(first)
    windows.flush(second)
    now = time.time()
    window = windows.read(version, now - 5, now + 1)
    assert (window.requests, window.errors) == (20, 10)
    assert window.percentile_ms(0.5) < 1 < 200 <= window.percentile_ms(0.95) < 250
