"""Faults with real processes: a worker SIGKILLed mid-chunk, the broker restarted mid-job.

Each job runs a real ONNX model that loops for a fraction of a second per chunk, so the job is
certainly mid-way when the fault comes. This test process plays beat: it calls the sweep between
looks, as ``batch.jobs_sweep`` does every minute in production (here with seconds, not minutes).
The output must hold exactly one row per input row, in input order, none twice.
"""

import io
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import numpy as np
import pyarrow.parquet as pq
import pytest
from django.conf import settings

from batch import services
from batch.files import local_copy
from batch.models import BatchChunk, BatchJob, ChunkState
from batch.tests.conftest import parquet_bytes, submit
from batch.tests.live import start_worker, wait_for_job, wait_until
from conftest import make_version, stop
from modelkit.tests.looping_model import looping_onnx
from registry import services as registry

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROWS, CHUNK = 120, 20
FAST = {"MODELYARD_BATCH_CHUNK_ROWS": str(CHUNK), "MODELYARD_BATCH_LEASE_SECONDS": "3",
        "MODELYARD_BATCH_REQUEUE_SECONDS": "2"}


@pytest.fixture(autouse=True)
def fast_settings(settings) -> None:
    settings.MODELYARD_BATCH_CHUNK_ROWS = CHUNK
    settings.MODELYARD_BATCH_CHUNKS_PER_TASK = 1  # a task per 20-row chunk: about a second each
    settings.MODELYARD_BATCH_LEASE_SECONDS = 3
    settings.MODELYARD_BATCH_REQUEUE_SECONDS = 2


@pytest.fixture
def slow_model(model, owner):
    version = make_version(model, owner, looping_onnx(4), filename="slow.onnx")
    assert version.status == "ready", version.status_message
    registry.alias_set(actor=owner, model=model, name="production", version=version)
    return version


def slow_input() -> bytes:
    """Every row loops a million times: about a second per chunk of 20 rows."""
    return parquet_bytes(np.full((ROWS, 4), 1_000_000.0), row_group_size=CHUNK)


def assert_exactly_once(job: BatchJob) -> None:
    assert job.status == "succeeded", job.status_message
    output = pq.read_table(io.BytesIO(local_copy(job.output_key, job.output_sha256).read_bytes()))
    assert output.column("row").to_pylist() == list(range(1, ROWS + 1))
    assert output.column("id").to_pylist() == [f"r{i}" for i in range(1, ROWS + 1)]


def running_on(job: BatchJob, pid: int) -> bool:
    return BatchChunk.objects.filter(job=job, state=ChunkState.RUNNING, lease_owner__contains=f":{pid}:").exists()


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        stop(process)


def test_a_worker_killed_mid_chunk_loses_and_duplicates_nothing(workers, slow_model, owner, settings):
    settings.MODELYARD_BATCH_CHUNKS_PER_TASK = 2  # tasks of two chunks: the killed one was part way through
    first = start_worker("first", FAST)
    workers.append(first)
    job = submit(owner, slow_model.model, slow_input(), "slow.parquet", id_column="id")
    assert BatchChunk.objects.filter(job=job).count() == ROWS // CHUNK // 2
    wait_until(lambda: running_on(job, first.pid), what="chunk on the first worker")
    time.sleep(0.2)
    os.kill(first.pid, signal.SIGKILL)  # mid-chunk: a chunk takes about a second
    first.wait()
    killed = BatchChunk.objects.get(job=job, lease_owner__contains=f":{first.pid}:")
    assert killed.state == ChunkState.RUNNING
    workers += [start_worker("second", FAST), start_worker("restarted", FAST)]  # another, and the restarted one

    finished = wait_for_job(str(job.uuid), timeout=180, tick=services.jobs_sweep)
    assert_exactly_once(finished)
    killed.refresh_from_db()
    assert killed.state == ChunkState.DONE and killed.attempts == 2
    assert f":{first.pid}:" not in killed.lease_owner  # committed by the worker that took it over


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own (the machine's Redis is shared): no persistence, so a restart
    loses every queued message, the worst case for a broker."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--save", "", "--appendonly",
                                         "no", "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL)
        wait_until(self._answers, timeout=10, what="redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if not settings.REDIS_URL or shutil.which("redis-server") is None:
        pytest.skip("runs where Redis is the broker (REDIS_URL) and redis-server is installed")
    redis = PrivateRedis()
    redis.start()
    app = _celery()
    saved = app.conf.broker_url, app.conf.broker_transport_options
    _use_broker(app, redis.url, {"visibility_timeout": 3600})
    yield redis
    _use_broker(app, *saved)
    redis.stop()


def _celery():  # noqa: ANN202 (the Celery app)
    from batch.tasks import job_chunk_run

    return job_chunk_run.app  # the project's app (batch may not import config)


def _use_broker(app, url: str, options: dict) -> None:  # noqa: ANN001
    """Point this process's task sending at another broker: kombu's shared pools are closed and emptied
    (a closed pool left in them would refuse every later send), and the app builds new ones."""
    from kombu import pools

    app.conf.broker_url, app.conf.broker_transport_options = url, options
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def test_a_redis_restart_mid_job_loses_nothing(workers, private_redis, slow_model, owner):
    workers.append(start_worker("first", {**FAST, "REDIS_URL": private_redis.url}))
    job = submit(owner, slow_model.model, slow_input(), "slow.parquet", id_column="id")
    wait_until(lambda: BatchChunk.objects.filter(job=job, state=ChunkState.DONE).count() >= 2, what="two chunks")
    private_redis.stop()  # every queued chunk message is gone with it
    private_redis.start()

    sent_again: list[int] = []
    finished = wait_for_job(str(job.uuid), timeout=180,
                            tick=lambda: sent_again.append(services.jobs_sweep()["requeued"]))
    assert_exactly_once(finished)
    assert sum(sent_again) > 0  # the lost messages were sent again, not found by luck
    assert BatchChunk.objects.filter(job=finished).count() == ROWS // CHUNK


def test_cancel_stops_a_running_job_at_the_next_chunk_and_removes_its_parts(workers, slow_model, owner, as_user,
                                                                           artifact_root, settings):
    from conftest import stored_files

    settings.MODELYARD_BATCH_CHUNKS_PER_TASK = 3  # two tasks of three ~1 s chunks: the second is cancelled mid-way
    workers.append(start_worker("first", FAST))
    job = submit(owner, slow_model.model, slow_input(), "slow.parquet", id_column="id")
    wait_until(lambda: BatchChunk.objects.filter(job=job, state=ChunkState.DONE).exists(), what="a task done")
    response = as_user(owner).post(f"/api/v1/batch-jobs/{job.uuid}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    before = BatchChunk.objects.filter(job=job, state=ChunkState.DONE).count()

    wait_until(lambda: not BatchChunk.objects.filter(job=job, state=ChunkState.RUNNING).exists(),
               what="the running task to stop between its chunks and give its claim back")
    time.sleep(1)  # the worker drains the cancelled job's remaining messages, each doing nothing
    assert BatchChunk.objects.filter(job=job, state=ChunkState.DONE).count() == before  # none committed after
    assert BatchJob.objects.get(pk=job.pk).status == "cancelled"
    assert not [p for p in stored_files(artifact_root) if str(job.uuid) in str(p)]
