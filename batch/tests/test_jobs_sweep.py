"""jobs_sweep (beat, every minute): chunks whose message was lost or whose worker died are sent again,
complete jobs are finalized, and nothing stays queued or running past MODELYARD_BATCH_MAX_JOB_HOURS."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batch import services
from batch.models import BatchChunk, BatchJob, ChunkState
from batch.services import chunks
from batch.tests.conftest import csv_bytes, iris_like, submit
from registry.models import AuditEvent


@pytest.fixture
def job(ready_iris, owner, small_chunks, settings):
    settings.MODELYARD_BATCH_REQUEUE_SECONDS = 120
    return submit(owner, ready_iris.model, csv_bytes(iris_like(30)), id_column="id")


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def test_only_chunks_sent_long_ago_and_not_taken_or_held_by_a_dead_worker_are_sent_again(job):
    chunks = {c.index: c for c in BatchChunk.objects.filter(job=job)}
    BatchChunk.objects.filter(pk=chunks[0].pk).update(enqueued_at=ago(300))  # its message was lost
    BatchChunk.objects.filter(pk=chunks[1].pk).update(enqueued_at=ago(300), state=ChunkState.RUNNING,
                                                      lease_owner="dead:1:x", lease_expires_at=ago(5))
    BatchChunk.objects.filter(pk=chunks[2].pk).update(enqueued_at=ago(300), state=ChunkState.RUNNING,
                                                      lease_owner="alive:1:x", lease_expires_at=ago(-20))
    assert services.jobs_sweep() == {"requeued": 2, "finalize": 0, "failed": 0}
    sent = BatchChunk.objects.filter(job=job, enqueued_at__gt=ago(5)).values_list("index", flat=True)
    assert sorted(sent) == [0, 1]
    assert services.jobs_sweep()["requeued"] == 0  # sent again, not again at every sweep


class Died(BaseException):
    """The worker process ending between a chunk's commit and the finalize it would have run."""


def test_a_complete_job_that_was_never_finalized_is(job, run, monkeypatch):
    def dies(**_: object) -> None:
        raise Died

    monkeypatch.setattr(chunks, "job_finalize", dies)
    for chunk_id in BatchChunk.objects.filter(job=job).values_list("id", flat=True):
        try:
            services.job_chunk_run(chunk_id=chunk_id)
        except Died:
            pass
    monkeypatch.undo()
    assert BatchChunk.objects.filter(job=job).exclude(state=ChunkState.DONE).count() == 0
    assert services.jobs_sweep()["finalize"] == 1
    BatchJob.objects.filter(pk=job.pk).update(finalize_owner="w:1:x", finalize_expires_at=ago(-30))
    assert services.jobs_sweep()["finalize"] == 0  # a finalize step holds it


def test_a_job_past_the_time_limit_fails_with_a_message(job, settings):
    settings.MODELYARD_BATCH_MAX_JOB_HOURS = 2
    BatchJob.objects.filter(pk=job.pk).update(created_at=ago(3 * 3600))
    assert services.jobs_sweep()["failed"] == 1
    job.refresh_from_db()
    assert job.status == "failed" and job.status_message == "The job did not finish within 2 hours and was stopped"
    assert AuditEvent.objects.filter(action="batch_job.failed", actor=None).count() == 1
