"""Cancel, through the service and POST /api/v1/batch-jobs/{id}/cancel: no chunk starts afterwards, a
running one throws its part away, the parts go, and it is on the record."""

import pytest

from batch import services
from batch.models import BatchChunk, ChunkState
from batch.tests.conftest import csv_bytes, iris_like, submit
from conftest import stored_files
from core.errors import Conflict
from registry.models import AuditEvent


@pytest.fixture
def job(ready_iris, owner, small_chunks):
    return submit(owner, ready_iris.model, csv_bytes(iris_like(30)), id_column="id")


def parts(root) -> list:
    return [p for p in stored_files(root) if "parts" in p.parts]


def test_a_predictor_cancels_a_running_job_and_its_parts_go(job, teammate, as_user, artifact_root,
                                                            django_capture_on_commit_callbacks):
    services.job_chunk_run(chunk_id=BatchChunk.objects.get(job=job, index=0).id)
    assert parts(artifact_root)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(teammate).post(f"/api/v1/batch-jobs/{job.uuid}/cancel")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["rows_done"], body["status_message"]) == ("cancelled", 10,
                                                                          "Cancelled by tom-teammate")
    assert not parts(artifact_root)
    event = AuditEvent.objects.get(action="batch_job.cancel")
    assert event.actor == teammate and event.after == {"status": "cancelled", "rows_done": 10}
    later = BatchChunk.objects.get(job=job, index=1)
    assert services.job_chunk_run(chunk_id=later.id) == "job cancelled"
    assert services.job_finalize(job_id=job.id) == "nothing to do"


def test_a_chunk_running_when_the_job_is_cancelled_throws_its_part_away(job, owner, artifact_root):
    from batch.services import chunks

    chunk = chunks.chunk_get(BatchChunk.objects.get(job=job, index=1).id)
    owner_id, plan = chunks._claim(chunk), chunks.job_plan(job.id)
    result = chunks._compute(plan, chunk, chunks._Watch(chunk.id, owner_id))
    services.job_cancel(actor=owner, job=job)  # between the chunk's work and its commit
    assert chunks._commit(plan, chunk, owner_id, result) == "dropped"
    assert BatchChunk.objects.get(pk=chunk.id).state == ChunkState.RUNNING and not parts(artifact_root)


def test_a_finished_job_cannot_be_cancelled(job, owner, as_user, run):
    run(job)
    with pytest.raises(Conflict, match="already succeeded"):
        services.job_cancel(actor=owner, job=job)
    response = as_user(owner).post(f"/api/v1/batch-jobs/{job.uuid}/cancel")
    assert response.status_code == 409 and response.json()["error"]["code"] == "job_finished"
    assert not AuditEvent.objects.filter(action="batch_job.cancel").exists()


def test_a_viewer_cannot_cancel_and_an_outsider_learns_nothing(job, viewer, outsider, as_user):
    assert as_user(viewer).post(f"/api/v1/batch-jobs/{job.uuid}/cancel").status_code == 403
    assert as_user(outsider).post(f"/api/v1/batch-jobs/{job.uuid}/cancel").status_code == 404
    job.refresh_from_db()
    assert job.status == "queued"
