"""job_finalize: committed parts in chunk order become one output and one errors file, once."""

import hashlib

import orjson
import pytest
from celery.exceptions import SoftTimeLimitExceeded

from batch import services, tasks
from batch.files import local_copy
from batch.models import BatchChunk
from batch.services import finalize
from batch.tests.conftest import bad_csv, csv_bytes, iris_like, jsonl_bytes, output_rows, parquet_bytes, submit
from conftest import stored_files
from registry.models import AuditEvent


def run_backwards(job):
    """Chunks commit in any order on real workers; here the last one first. The delivery that commits
    the last chunk finalizes the job; a finalize after it finds nothing to do."""
    for chunk_id in BatchChunk.objects.filter(job=job).order_by("-index").values_list("id", flat=True):
        assert services.job_chunk_run(chunk_id=chunk_id) == "done"
    assert services.job_finalize(job_id=job.id) == "nothing to do"
    job.refresh_from_db()
    return job.status


@pytest.mark.parametrize(("data", "filename"), [(csv_bytes(iris_like(45)), "in.csv"),
                                                (parquet_bytes(iris_like(45), row_group_size=10), "in.parquet"),
                                                (jsonl_bytes(iris_like(45)), "in.jsonl")])
@pytest.mark.parametrize("output_format", ["parquet", "csv", "jsonl"])
def test_parts_are_assembled_in_input_order_whatever_order_they_committed_in(ready_iris, owner, small_chunks,
                                                                              artifact_root, data, filename,
                                                                              output_format):
    job = submit(owner, ready_iris.model, data, filename, id_column="id", output_format=output_format)
    assert run_backwards(job) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_failed, job.status_message) == ("succeeded", 45, 0, "")
    assert output_rows(job) == list(range(1, 46))
    output = local_copy(job.output_key, job.output_sha256).read_bytes()
    assert job.errors_size == 0 and job.output_size == len(output)
    assert job.output_sha256 == hashlib.sha256(output).hexdigest()  # hashed as it was written
    errors = local_copy(job.errors_key, job.errors_sha256).read_bytes()
    assert job.errors_sha256 == hashlib.sha256(errors).hexdigest()
    assert not [p for p in stored_files(artifact_root) if "parts" in p.parts]
    event = AuditEvent.objects.get(action="batch_job.succeeded")
    assert event.actor is None and event.after["rows_done"] == 45


def test_a_second_finalize_does_nothing(ready_iris, owner, small_chunks, artifact_root):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(12)), id_column="id")
    run_backwards(job)
    files, events = stored_files(artifact_root), AuditEvent.objects.count()
    assert services.job_finalize(job_id=job.id) == "nothing to do"
    assert stored_files(artifact_root) == files and AuditEvent.objects.count() == events


def test_finalize_waits_for_every_chunk(ready_iris, owner, small_chunks):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(12)), id_column="id")
    services.job_chunk_run(chunk_id=BatchChunk.objects.get(job=job, index=0).id)
    assert services.job_finalize(job_id=job.id) == "not ready"
    job.refresh_from_db()
    assert job.status == "running" and not job.finalize_owner


def test_past_max_error_rate_the_job_fails_with_its_errors_file_and_no_output(ready_iris, owner, small_chunks,
                                                                               artifact_root):
    job = submit(owner, ready_iris.model, bad_csv(30, [4, 25]), id_column="id", max_error_rate=0.05)
    assert run_backwards(job) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and not job.output_key and job.rows_failed == 2
    assert job.status_message.startswith("2 of 30 rows (6.67%) were refused, more than max_error_rate (0.05)")
    errors = [orjson.loads(line) for line in local_copy(job.errors_key, job.errors_sha256).read_bytes().splitlines()]
    assert [(e["row"], e["id"], e["code"], e["column"]) for e in errors] == [
        (4, "r4", "not_a_number", "sepal_width"), (25, "r25", "not_a_number", "sepal_width")]
    assert not [p for p in stored_files(artifact_root) if "parts" in p.parts]


def test_within_max_error_rate_the_job_succeeds_and_says_how_many_were_refused(ready_iris, owner, small_chunks):
    job = submit(owner, ready_iris.model, bad_csv(30, [4, 25]), id_column="id", max_error_rate=0.1)
    assert run_backwards(job) == "succeeded"
    job.refresh_from_db()
    assert (job.rows_done, job.rows_failed) == (28, 2) and "within max_error_rate" in job.status_message
    assert output_rows(job) == [r for r in range(1, 31) if r not in (4, 25)]


def test_once_the_rate_cannot_be_met_the_job_fails_without_waiting_for_the_rest(ready_iris, owner, small_chunks):
    job = submit(owner, ready_iris.model, bad_csv(30, [4]), id_column="id")
    services.job_chunk_run(chunk_id=BatchChunk.objects.get(job=job, index=0).id)  # finalizes: failed
    job.refresh_from_db()
    assert job.status == "failed" and job.rows_failed == 1
    later = BatchChunk.objects.get(job=job, index=1)
    assert services.job_chunk_run(chunk_id=later.id) == "job failed"


def test_a_finalize_that_runs_out_of_a_chunk_tasks_time_hands_over_to_a_finalize_task(ready_iris, owner,
                                                                                      small_chunks, monkeypatch):
    """The last chunk's task finalizes with what is left of its own time limit; past it the job is not
    failed but given a finalize task of its own. That task, out of time itself, fails the job."""
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(12)), id_column="id")
    sent: list[int] = []
    monkeypatch.setattr(tasks.job_finalize, "delay", sent.append)

    def out_of_time(*_: object, **__: object) -> None:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(finalize, "_files", out_of_time)
    for chunk_id in BatchChunk.objects.filter(job=job).order_by("index").values_list("id", flat=True):
        assert services.job_chunk_run(chunk_id=chunk_id) == "done"
    job.refresh_from_db()
    assert (job.status, job.finalize_owner, sent) == ("running", "", [job.id])
    assert services.job_finalize(job_id=job.id) == "failed"  # the finalize task: the whole limit was not enough
    job.refresh_from_db()
    assert job.status == "failed" and "SoftTimeLimitExceeded" in job.status_message


def test_the_finalize_task_assembles_what_the_chunk_task_had_no_time_for(ready_iris, owner, small_chunks,
                                                                        monkeypatch):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(12)), id_column="id")
    sent: list[int] = []
    monkeypatch.setattr(tasks.job_finalize, "delay", sent.append)
    real = finalize._files

    def out_of_time_once(*args: object, **kwargs: object) -> dict:
        monkeypatch.setattr(finalize, "_files", real)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(finalize, "_files", out_of_time_once)
    for chunk_id in BatchChunk.objects.filter(job=job).values_list("id", flat=True):
        services.job_chunk_run(chunk_id=chunk_id)
    assert sent == [job.id]
    assert services.job_finalize(job_id=job.id) == "succeeded"
    job.refresh_from_db()
    assert output_rows(job) == list(range(1, 13))
