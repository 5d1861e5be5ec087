"""GET /api/v1/batch-jobs/{id}/output and /errors: streamed once the job has finished; 409 before, 410 after
retention removed them."""

import io

import orjson
import pyarrow.parquet as pq

from batch.tests.conftest import csv_bytes, iris_like, submit

URL = "/api/v1/batch-jobs"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_output_and_errors_files_stream_with_their_checksums(as_user, owner, teammate, ready_iris, run):
    lines = csv_bytes(iris_like(6)).decode().splitlines()
    lines[2] = "r2,1,2,3"
    job = run(submit(owner, ready_iris.model, ("\n".join(lines) + "\n").encode(), id_column="id",
                     max_error_rate=0.5))
    client = as_user(teammate)
    output = client.get(f"{URL}/{job.uuid}/output")
    assert output.status_code == 200 and output["Content-Type"] == "application/vnd.apache.parquet"
    assert output["X-Checksum-SHA256"] == job.output_sha256
    assert f'filename="iris-{job.uuid}.parquet"' in output["Content-Disposition"]
    assert pq.read_table(io.BytesIO(body(output))).column("row").to_pylist() == [1, 3, 4, 5, 6]
    errors = client.get(f"{URL}/{job.uuid}/errors")
    assert errors.status_code == 200 and errors["Content-Type"] == "application/x-ndjson"
    assert orjson.loads(body(errors)) == {"row": 2, "column": None, "code": "wrong_field_count", "id": None,
                                          "message": "The line has 4 fields; the header has 5"}


def test_no_file_before_the_job_finishes(as_user, owner, ready_iris):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    for what in ("output", "errors"):
        response = as_user(owner).get(f"{URL}/{job.uuid}/{what}")
        assert response.status_code == 409 and response.json()["error"]["code"] == "not_finished"


def test_after_retention_the_files_are_gone(as_user, owner, ready_iris, run, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from batch import services
    from batch.models import BatchJob

    job = run(submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id"))
    BatchJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):
        services.jobs_expire(older_than=timedelta(days=30), grace=timedelta(days=1))
    response = as_user(owner).get(f"{URL}/{job.uuid}/output")
    assert response.status_code == 410 and response.json()["error"]["code"] == "gone"
    detail = as_user(owner).get(f"{URL}/{job.uuid}").json()
    assert detail["output"] is None and detail["expired_at"] is not None and detail["rows_done"] == 5


def test_outsiders_and_viewers_cannot_read_files(as_user, owner, viewer, outsider, ready_iris, run):
    job = run(submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id"))
    assert as_user(viewer).get(f"{URL}/{job.uuid}/output").status_code == 403
    assert as_user(outsider).get(f"{URL}/{job.uuid}/errors").status_code == 404
