"""Helpers for tests with real worker processes: start another worker, wait for a job, read its files."""

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from batch.models import BatchJob
from conftest import process_env


def start_worker(name: str, env: dict[str, str]) -> subprocess.Popen:
    """A solo-pool worker on this run's queue, logging to <data dir>/<name>.log."""
    log = Path(settings.DATA_DIR) / f"{name}.log"
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l", "info", "-n",
             f"{name}@%h", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip", "--without-mingle",
             "--without-heartbeat"], env=process_env(**env), stdout=out, stderr=subprocess.STDOUT,
            cwd=settings.BASE_DIR)


def logs() -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                     for log in Path(settings.DATA_DIR).glob("*.log"))


def wait_for_job(job_id: str, timeout: float = 120.0, *, tick: Callable[[], object] | None = None) -> BatchJob:
    """Until the job has finished; ``tick`` runs between looks (a test playing beat calls the sweep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = BatchJob.objects.get(uuid=job_id)
        if job.status not in ("queued", "running"):
            return job
        if tick is not None:
            tick()
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.status} after {timeout}s; worker logs:\n{logs()}")


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout}s; worker logs:\n{logs()}")
        time.sleep(0.05)
