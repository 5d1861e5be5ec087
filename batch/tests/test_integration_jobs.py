"""End to end through the API with real Celery worker processes on the configured broker and database:
jobs through an alias over generated CSV and Parquet files, bad rows, cancel, two workers sharing a job."""

import io
import subprocess
from collections.abc import Iterator

import orjson
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batch.models import BatchChunk
from batch.tests.conftest import csv_bytes, iris_like, parquet_bytes
from batch.tests.live import start_worker, wait_for_job
from conftest import stop, stored_files

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CHUNK = {"MODELYARD_BATCH_CHUNK_ROWS": "50"}


@pytest.fixture
def worker_env() -> dict[str, str]:
    return CHUNK


@pytest.fixture(autouse=True)
def chunks_of_fifty(settings) -> None:
    settings.MODELYARD_BATCH_CHUNK_ROWS = 50  # planned at submit, in this process


def submit(client, data: bytes, filename: str, **fields) -> dict:
    body = {"model": "iris", "alias": "production", "file": SimpleUploadedFile(filename, data), **fields}
    response = client.post("/api/v1/batch-jobs", body, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def download(client, job_id: str, what: str = "output") -> bytes:
    response = client.get(f"/api/v1/batch-jobs/{job_id}/{what}")
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_job_through_an_alias_matches_online_predictions_row_for_row(worker, as_user, teammate, ready_iris, fmt):
    client, values = as_user(teammate), iris_like(230, seed=3)
    data = csv_bytes(values) if fmt == "csv" else parquet_bytes(values, row_group_size=40)
    created = submit(client, data, f"scores.{fmt}", id_column="id")
    # queued, or running already if the worker took it before the submit's answer was written
    assert created["status"] in ("queued", "running") and created["version"] == 1 and created["rows_total"] == 230

    job = wait_for_job(created["id"])
    assert job.status == "succeeded", job.status_message
    output = pq.read_table(io.BytesIO(download(client, created["id"])))
    online = client.post("/api/v1/models/iris/aliases/production/predict", {"inputs": values.tolist()},
                         format="json").json()["outputs"]
    assert output.column("row").to_pylist() == list(range(1, 231))
    assert output.column("id").to_pylist() == [f"r{i}" for i in range(1, 231)]
    assert output.column("labels").to_pylist() == online["labels"]
    for k in range(3):
        batch = output.column(f"probabilities_{k}").to_pylist()
        assert batch == pytest.approx([row[k] for row in online["probabilities"]], abs=1e-6)
    detail = client.get(f"/api/v1/batch-jobs/{created['id']}").json()
    assert (detail["rows_done"], detail["rows_failed"], detail["progress"]) == (230, 0, 1.0)
    assert detail["rows_per_second"] > 0 and detail["output"]["size_bytes"] == job.output_size


def test_bad_rows_go_to_the_errors_file_with_their_line_numbers(worker, as_user, teammate, ready_iris):
    lines = csv_bytes(iris_like(120, seed=5)).decode().splitlines()
    lines[3] = "r3,5.1,3.5,1.4"  # file line 4: a field short
    lines[60] = "r60,5.1,abc,1.4,0.2"  # line 61: not a number
    lines[99] = "r99,5.1,,1.4,0.2"  # line 100: missing value
    created = submit(as_user(teammate), ("\n".join(lines) + "\n").encode(), "bad.csv", output_format="csv",
                     id_column="id", max_error_rate="0.05")
    job = wait_for_job(created["id"])
    assert job.status == "succeeded", job.status_message
    assert (job.rows_done, job.rows_failed) == (117, 3) and "3 of 120 rows" in job.status_message

    errors = [orjson.loads(line) for line in download(as_user(teammate), created["id"], "errors").splitlines()]
    assert [(e["row"] + 1, e["code"]) for e in errors] == [(4, "wrong_field_count"), (61, "not_a_number"),
                                                          (100, "missing_value")]
    assert [e["id"] for e in errors] == [None, "r60", "r99"]
    output = pcsv.read_csv(io.BytesIO(download(as_user(teammate), created["id"])))
    assert output.num_rows == 117 and 3 not in output.column("row").to_pylist()


def test_past_max_error_rate_the_job_fails_and_keeps_its_errors_file(worker, as_user, teammate, ready_iris):
    lines = csv_bytes(iris_like(60)).decode().splitlines()
    lines[10] = "r10,nan,1,1,1"
    created = submit(as_user(teammate), ("\n".join(lines) + "\n").encode(), "bad.csv", id_column="id")
    job = wait_for_job(created["id"])
    assert job.status == "failed" and "more than max_error_rate (0)" in job.status_message
    (error,) = [orjson.loads(line) for line in download(as_user(teammate), created["id"], "errors").splitlines()]
    assert (error["row"], error["code"]) == (10, "not_finite")
    assert as_user(teammate).get(f"/api/v1/batch-jobs/{created['id']}/output").status_code == 404


@pytest.fixture
def second_worker(worker_env) -> Iterator[subprocess.Popen]:
    process = start_worker("second", worker_env)
    yield process
    stop(process)


def test_two_workers_share_one_job_and_the_parts_are_removed(worker, second_worker, as_user, teammate, ready_iris,
                                                             artifact_root):
    created = submit(as_user(teammate), parquet_bytes(iris_like(2000), ids=False, row_group_size=50), "big.parquet",
                     output_format="jsonl")
    job = wait_for_job(created["id"])
    assert job.status == "succeeded", job.status_message
    pids = {owner.split(":")[1] for owner in BatchChunk.objects.filter(job=job).values_list("lease_owner", flat=True)}
    assert pids == {str(worker.pid), str(second_worker.pid)}  # each chunk row names who committed it
    rows = [orjson.loads(line)["row"] for line in download(as_user(teammate), created["id"]).splitlines()]
    assert rows == list(range(1, 2001))
    assert not [p for p in stored_files(artifact_root) if "/parts/" in str(p) and created["id"] in str(p)]
