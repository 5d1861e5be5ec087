"""A Redis restart in the middle of a canary: the rollout continues from its last decision, no step twice.

Runs everything (web, worker, beat, this process's bus) on a Redis server of its own on port 6391, so the
machine's shared Redis is never touched.
"""

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import make_version
from registry.models import ModelAlias
from registry.tokens import RefreshToken
from rollouts import services
from rollouts.tests.live import TICK_ENV, Traffic, wait_ready, wait_until_finished

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")]
PORT = 6391
URL = f"redis://127.0.0.1:{PORT}/0"


def _redis_server(folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(["redis-server", "--port", str(PORT), "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["redis-cli", "-p", str(PORT), "ping"], capture_output=True).returncode == 0:
            return process
        time.sleep(0.1)
    process.kill()
    raise AssertionError("redis-server did not start")


@pytest.fixture
def own_redis(tmp_path: Path, settings: Any) -> Iterator[dict[str, Any]]:
    from core import windows

    holder = {"process": _redis_server(tmp_path), "folder": tmp_path}
    settings.REDIS_URL = URL  # this process's bus publishes there too
    windows._client = None
    yield holder
    holder["process"].terminate()
    holder["process"].wait(timeout=10)
    windows._client = None


@pytest.fixture
def web_env(own_redis: dict[str, Any]) -> dict[str, str]:
    return {"REDIS_URL": URL}


@pytest.fixture
def worker_env(own_redis: dict[str, Any]) -> dict[str, str]:
    return {**TICK_ENV, "REDIS_URL": URL}


@pytest.fixture
def beat_env(own_redis: dict[str, Any]) -> dict[str, str]:
    return {**TICK_ENV, "REDIS_URL": URL}


def test_a_redis_restart_mid_canary_applies_no_step_twice(own_redis, web_server, worker, beat, teammate, model,
                                                          owner, ready_iris, iris_onnx, iris_rows):
    wait_ready(web_server)
    candidate = make_version(model, owner, iris_onnx[0], filename="iris.onnx")
    token = str(RefreshToken.for_user(teammate).access_token)
    with Traffic(web_server, token, iris_rows) as traffic:
        rollout = services.rollout_create(actor=owner, model=model, alias="production", version=candidate.version,
                                          strategy="canary", steps=[20, 50, 100], step_seconds=3,
                                          guards={"min_requests": 10})
        deadline = time.monotonic() + 30
        while not rollout.events.filter(kind="advanced").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        own_redis["process"].terminate()  # in the middle of the first step
        own_redis["process"].wait(timeout=10)
        time.sleep(1)
        own_redis["process"] = _redis_server(own_redis["folder"])
        rollout = wait_until_finished(rollout, timeout=90)
    assert rollout.status == "completed", list(rollout.events.values_list("kind", "rule"))
    assert [e.weight_after for e in rollout.events.filter(kind="advanced").order_by("at")] == [20, 50, 100]
    assert ModelAlias.objects.get(name="production").version_id == candidate.id
    statuses = traffic.statuses()
    assert statuses[200] > 0 and set(statuses) <= {200, 503}, statuses  # 503 only while Redis is down, if at all
