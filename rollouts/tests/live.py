"""Helpers for rollouts against real processes: a beat, a traffic generator, waiting for a rollout to end."""

import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from django.conf import settings

from conftest import process_env, stop
from rollouts.models import Rollout

TICK_ENV = {"MODELYARD_ROLLOUT_TICK_SECONDS": "0.5"}


@pytest.fixture
def beat_env() -> dict[str, str]:
    return TICK_ENV


@pytest.fixture
def beat(tmp_path: Path, beat_env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """celery beat ticking every half second, with its own schedule file (never the shared database scheduler)."""
    log = Path(settings.DATA_DIR) / "beat.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
             "-S", "celery.beat:PersistentScheduler", "-s", str(tmp_path / "beat-schedule"), "--max-interval", "1"],
            env=process_env(**beat_env), stdout=out, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR)
    yield process
    stop(process)


class Traffic:
    """Callers with random routing keys, one at a time as fast as they go; every answer's status and version kept."""

    def __init__(self, base: str, token: str, rows: list) -> None:
        self.url = f"{base}/api/v1/models/iris/aliases/production/predict"
        self.token, self.rows = token, rows
        self.answers: list[tuple[float, int, int | None]] = []  # (time, status, version)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True)]

    def __enter__(self) -> "Traffic":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.is_set():
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                       "Modelyard-Routing-Key": f"caller-{random.randrange(10**6)}", "Connection": "close"}
            request = urllib.request.Request(self.url, data=orjson.dumps({"inputs": self.rows}), method="POST",
                                             headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    version = int(response.headers["Modelyard-Version"])
                    self.answers.append((time.time(), response.status, version))
            except urllib.error.HTTPError as exc:
                self.answers.append((time.time(), exc.code, None))
            except OSError:
                self.answers.append((time.time(), 0, None))

    def statuses(self) -> Counter:
        return Counter(status for _, status, _ in self.answers)

    def versions(self) -> Counter:
        return Counter(version for _, _, version in self.answers)


def wait_until_finished(rollout: Rollout, timeout: float = 60.0) -> Rollout:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rollout.refresh_from_db()
        if rollout.status not in ("running", "paused"):
            return rollout
        time.sleep(0.25)
    events = list(rollout.events.values_list("kind", "rule", "message"))
    log = (Path(settings.DATA_DIR) / "worker.log").read_text(errors="replace")[-3000:]
    raise AssertionError(f"rollout still {rollout.status} after {timeout}s: {events}\nworker log:\n{log}")


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    ready = 0
    while ready < 6 and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=2)
            ready += 1
        except OSError:
            time.sleep(0.1)
    assert ready == 6, "web workers never became ready"
