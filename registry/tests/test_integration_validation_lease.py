"""Validation leases with real Celery worker processes: the heartbeat keeps a long validation's lease
alive, a duplicate delivery meanwhile does nothing, and a worker killed mid-validation leaves a
stale lease that a second worker takes over."""

import operator
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from conftest import make_version, process_env, stop, wait_for_status
from registry import services
from registry.models import ModelVersion
from registry.services.validation import versions_sweep

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEASE = 2  # seconds; workers renew every half second
SWEEP = {"pending_after": timedelta(minutes=2), "validating_after": timedelta(minutes=30)}


class SlowLoad:
    """A pickle that takes `seconds` to load, then is the estimator: a big model's load, made slow."""

    def __init__(self, estimator: Any, seconds: float) -> None:
        self.estimator, self.seconds = estimator, seconds

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (operator.getitem, ([_Sleep(self.seconds), self.estimator], 1))


class _Sleep:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (time.sleep, (self.seconds,))


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {"MODELYARD_ALLOW_PICKLE": "true", "MODELYARD_VALIDATION_LEASE_SECONDS": str(LEASE)}


@pytest.fixture
def slow_version(model, maintainer, iris_estimator, settings) -> Callable[[float], ModelVersion]:
    import pickle

    settings.MODELYARD_ALLOW_PICKLE, settings.MODELYARD_VALIDATION_LEASE_SECONDS = True, LEASE
    maintainer.user_permissions.add(Permission.objects.get(codename="publish_pickle"))
    publisher = type(maintainer).objects.get(pk=maintainer.pk)
    return lambda seconds: make_version(model, publisher, pickle.dumps(SlowLoad(iris_estimator, seconds)),
                                        validate=False)


@pytest.fixture
def start_worker(worker_env: dict[str, str]) -> Iterator[Callable[[str], subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        with (Path(settings.DATA_DIR) / f"{name}.log").open("wb") as out:
            started.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l", "info",
                 "-n", f"{name}@%h", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip",
                 "--without-mingle", "--without-heartbeat"],
                env=process_env(**worker_env), stdout=out, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR))
        return started[-1]

    yield start
    for process in started:
        stop(process)


def wait_for_claim(version: ModelVersion, pid: int, timeout: float = 60.0) -> ModelVersion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version.refresh_from_db()
        if f":{pid}:" in version.validation_lease_owner and version.status == "validating":
            return version
        time.sleep(0.1)
    raise AssertionError(f"worker {pid} did not claim v{version.version}: {version.status} "
                         f"{version.validation_lease_owner!r}")


def test_a_duplicate_during_a_long_validation_does_nothing_and_is_no_attempt(worker, slow_version):
    version = wait_for_claim(slow_version(4 * LEASE), worker.pid)
    time.sleep(2 * LEASE)  # past the lease: only the heartbeat keeps it live now
    assert versions_sweep(**SWEEP) == {"requeued": 0, "failed": 0}
    duplicate = services.version_validate(version_id=version.id)  # in this process, as a second worker would
    assert (duplicate.status, duplicate.validation_attempts) == ("validating", 1)
    done = wait_for_status(version.version)
    assert done.status == "ready", done.status_message
    assert done.validation_attempts == 1 and f":{worker.pid}:" in done.validation_lease_owner
    assert done.validation_heartbeat_at - done.validation_started_at >= timedelta(seconds=2 * LEASE)


def test_a_worker_killed_mid_validation_leaves_a_stale_lease_that_another_takes_over(start_worker, slow_version):
    first = start_worker("first")
    version = wait_for_claim(slow_version(3 * LEASE), first.pid)
    first.kill()  # SIGKILL while the model loads: no clean-up, no more heartbeats
    first.wait()
    assert versions_sweep(**SWEEP) == {"requeued": 0, "failed": 0}  # not stale yet
    time.sleep(LEASE + 0.5)
    assert versions_sweep(**SWEEP) == {"requeued": 1, "failed": 0}
    second = start_worker("second")
    done = wait_for_status(version.version)
    assert done.status == "ready", done.status_message
    assert done.validation_attempts == 2 and f":{second.pid}:" in done.validation_lease_owner
