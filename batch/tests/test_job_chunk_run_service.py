"""job_chunk_run, as a worker's task runs it: one chunk in, one part out, exactly once."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from batch import services
from batch.files import local_copy
from batch.models import BatchChunk, ChunkState
from batch.selectors import job_get_for_user, job_progress, job_totals
from batch.services.chunks import ChunkBusy
from batch.tests.conftest import csv_bytes, iris_like, submit
from conftest import stored_files
from modelkit.inputs import parse_inputs
from modelkit.runtimes import load_runtime
from registry.kit import load_policy
from registry.models import AuditEvent


def part(chunk: BatchChunk) -> pa.Table:
    return pq.read_table(local_copy(chunk.part_key, chunk.part_sha256))


@pytest.fixture
def job(ready_iris, owner, small_chunks):
    return submit(owner, ready_iris.model, csv_bytes(iris_like(25)), id_column="id")


def test_a_chunk_predicts_its_rows_with_the_versions_runtime(job, ready_iris):
    chunk = BatchChunk.objects.get(job=job, index=1)
    assert services.job_chunk_run(chunk_id=chunk.id) == "done"
    chunk.refresh_from_db()
    assert (chunk.state, chunk.rows_ok, chunk.rows_failed, chunk.attempts) == (ChunkState.DONE, 10, 0, 1)
    out = part(chunk)
    assert out.column("row").to_pylist() == list(range(11, 21))
    assert out.column("id").to_pylist() == [f"r{i}" for i in range(11, 21)]
    runtime = load_runtime("onnx", local_copy(ready_iris.storage_key, ready_iris.sha256), load_policy())
    expected = runtime.predict(parse_inputs(iris_like(25)[10:20].tolist(), ready_iris.signature, 100))
    assert out.column("labels").to_pylist() == expected["labels"].tolist()
    assert out.column("probabilities_2").to_pylist() == pytest.approx(expected["probabilities"][:, 2], abs=1e-6)
    job.refresh_from_db()
    assert job.status == "running" and job.started_at is not None


def test_a_second_delivery_of_a_done_chunk_does_nothing(job, artifact_root):
    chunk = BatchChunk.objects.get(job=job, index=0)
    services.job_chunk_run(chunk_id=chunk.id)
    files = stored_files(artifact_root)
    assert services.job_chunk_run(chunk_id=chunk.id) == "done already"
    chunk.refresh_from_db()
    assert chunk.attempts == 1 and stored_files(artifact_root) == files


def test_a_delivery_during_a_live_lease_waits_and_a_stale_lease_is_taken_over(job):
    chunk = BatchChunk.objects.get(job=job, index=0)
    later = timezone.now() + timezone.timedelta(seconds=20)
    BatchChunk.objects.filter(pk=chunk.pk).update(state=ChunkState.RUNNING, lease_owner="elsewhere:1:x",
                                                  lease_expires_at=later, attempts=1)
    with pytest.raises(ChunkBusy) as busy:
        services.job_chunk_run(chunk_id=chunk.id)
    assert 15 < busy.value.seconds <= 21
    BatchChunk.objects.filter(pk=chunk.pk).update(lease_expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert services.job_chunk_run(chunk_id=chunk.id) == "done"
    chunk.refresh_from_db()
    assert chunk.attempts == 2 and "elsewhere" not in chunk.lease_owner


def test_a_delivery_that_lost_its_lease_throws_its_part_away(job, artifact_root):
    from batch.services import chunks

    chunk = chunks.chunk_get(BatchChunk.objects.get(job=job, index=0).id)
    owner, plan = chunks._claim(chunk), chunks.job_plan(job.id)
    result = chunks._compute(plan, chunk, chunks._Watch(chunk.id, owner))  # a part under this delivery's own key
    assert [p for p in stored_files(artifact_root) if "parts" in p.parts]
    BatchChunk.objects.filter(pk=chunk.id).update(lease_owner="thief:2:y")  # its lease went elsewhere
    assert chunks._commit(plan, chunk, owner, result) == "dropped"
    chunk = BatchChunk.objects.get(pk=chunk.id)
    assert chunk.state == ChunkState.RUNNING and not chunk.part_key
    assert not [p for p in stored_files(artifact_root) if "parts" in p.parts]


def test_a_chunk_of_a_cancelled_job_does_nothing(job, owner, artifact_root):
    services.job_cancel(actor=owner, job=job)
    chunk = BatchChunk.objects.get(job=job, index=0)
    assert services.job_chunk_run(chunk_id=chunk.id) == "job cancelled"
    assert BatchChunk.objects.get(pk=chunk.pk).attempts == 0


def test_a_chunk_whose_worker_died_too_often_fails_the_job(job):
    chunk = BatchChunk.objects.get(job=job, index=2)
    BatchChunk.objects.filter(pk=chunk.pk).update(state=ChunkState.RUNNING, attempts=3, lease_owner="dead:1:z",
                                                  lease_expires_at=timezone.now())
    assert services.job_chunk_run(chunk_id=chunk.id) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "Chunk 2 (rows 21-25) were started 3 times" in job.status_message
    assert AuditEvent.objects.filter(action="batch_job.failed", target=f"batch_job:{job.uuid}").exists()


def test_a_changed_model_file_fails_the_job_and_quarantines_the_version(job, ready_iris):
    path = local_copy(ready_iris.storage_key, ready_iris.sha256)
    path.write_bytes(path.read_bytes() + b"tampered")
    assert services.job_chunk_run(chunk_id=BatchChunk.objects.get(job=job, index=0).id) == "failed"
    job.refresh_from_db()
    ready_iris.refresh_from_db()
    assert job.status == "failed" and "no longer matches its sha256" in job.status_message
    assert ready_iris.status == "failed"


def test_a_running_task_writes_its_progress_and_stops_once_its_job_is_cancelled(job, owner, monkeypatch):
    from batch.services import chunks

    monkeypatch.setattr(chunks, "LOOK_SECONDS", 0.0)  # every chunk looks (a second apart on a worker)
    chunk = chunks.chunk_get(BatchChunk.objects.get(job=job, index=0).id)
    watch = chunks._Watch(chunk.id, chunks._claim(chunk))
    watch.check(7, 2)
    progress = job_progress(job_get_for_user(user=owner, job_id=job.uuid))
    assert (progress.rows_done, progress.rows_failed, progress.fraction) == (7, 2, 0.36)  # 9 of 25 rows
    assert job_totals(job.id) == (0, 0)  # what decides max_error_rate and the job's totals: finished tasks
    services.job_cancel(actor=owner, job=job)
    with pytest.raises(chunks.JobStopped):
        watch.check(8, 2)


def test_a_task_whose_claim_went_elsewhere_stops_and_the_new_claim_counts_from_zero(job):
    from batch.services import chunks

    chunk = chunks.chunk_get(BatchChunk.objects.get(job=job, index=0).id)
    watch = chunks._Watch(chunk.id, chunks._claim(chunk))
    watch.next = 0.0
    watch.check(5, 0)
    BatchChunk.objects.filter(pk=chunk.id).update(lease_expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert chunks._claim(chunks.chunk_get(chunk.id)) is not None  # another delivery takes the stale lease
    assert BatchChunk.objects.get(pk=chunk.id).rows_ok == 0
    watch.next = 0.0
    with pytest.raises(chunks.JobStopped):
        watch.check(6, 0)


def test_a_claim_lost_in_a_database_crash_drops_the_part_and_the_chunk_runs_again(job, artifact_root):
    from batch.services import chunks

    chunk = chunks.chunk_get(BatchChunk.objects.get(job=job, index=0).id)
    owner, plan = chunks._claim(chunk), chunks.job_plan(job.id)
    result = chunks._compute(plan, chunk, chunks._Watch(chunk.id, owner))
    # The claim was committed without waiting for the disk (lease.losable) and the crash lost it.
    BatchChunk.objects.filter(pk=chunk.id).update(state=ChunkState.PENDING, lease_owner="", lease_expires_at=None,
                                                  attempts=0)
    assert chunks._commit(plan, chunk, owner, result) == "dropped"
    assert not [p for p in stored_files(artifact_root) if "parts" in p.parts]
    assert services.job_chunk_run(chunk_id=chunk.id) == "done"


def test_a_chunk_commit_lost_in_a_database_crash_is_redone_and_its_part_cleaned_up(job, artifact_root, run):
    first = BatchChunk.objects.get(job=job, index=0)
    assert services.job_chunk_run(chunk_id=first.id) == "done"
    lost = BatchChunk.objects.get(pk=first.id).part_key
    # The commit was asynchronous (lease.losable) and the crash lost it, as it lost the claim before it.
    BatchChunk.objects.filter(pk=first.id).update(state=ChunkState.PENDING, lease_owner="", lease_expires_at=None,
                                                  attempts=0, part_key="", part_sha256="", rows_ok=0)
    job = run(job)
    assert job.status == "succeeded" and job.rows_done == 25
    output = pq.read_table(local_copy(job.output_key, job.output_sha256))
    assert output.column("row").to_pylist() == list(range(1, 26))  # each row once
    assert BatchChunk.objects.get(pk=first.id).part_key != lost
    assert not [p for p in stored_files(artifact_root) if "parts" in p.parts]  # the unrecorded part went too
