"""Tasks of several chunks (MODELYARD_BATCH_CHUNKS_PER_TASK): one claim, one part and one commit for
consecutive chunks, read chunk by chunk, with every row and every refused row numbered as in the input."""

import io

import orjson
import pyarrow.parquet as pq
import pytest

from batch.files import local_copy
from batch.models import BatchChunk
from batch.tests.conftest import bad_csv, iris_like, jsonl_bytes, output_rows, parquet_bytes, submit


@pytest.fixture
def tasks_of_three(small_chunks, settings) -> int:
    settings.MODELYARD_BATCH_CHUNKS_PER_TASK = 3
    return 3


def error_rows(job) -> list[tuple[int, str]]:
    data = local_copy(job.errors_key, job.errors_sha256).read_bytes()
    return [(e["row"], e["id"]) for e in map(orjson.loads, data.splitlines())]


@pytest.mark.parametrize("output_format", ["parquet", "csv"])
def test_a_csv_task_reads_its_chunks_one_by_one_and_numbers_every_row(ready_iris, owner, tasks_of_three, run,
                                                                      output_format):
    """75 rows in chunks of 10: tasks of 30, 30 and 15 rows; bad rows in several chunks of one task."""
    job = submit(owner, ready_iris.model, bad_csv(75, [3, 14, 29, 31, 75]), id_column="id", max_error_rate=0.1,
                 output_format=output_format)
    assert list(BatchChunk.objects.filter(job=job).order_by("index").values_list("row_start", "rows")) == [
        (0, 30), (30, 30), (60, 15)]
    job = run(job)
    assert (job.status, job.rows_done, job.rows_failed) == ("succeeded", 70, 5)
    assert output_rows(job) == [r for r in range(1, 76) if r not in (3, 14, 29, 31, 75)]
    assert error_rows(job) == [(3, "r3"), (14, "r14"), (29, "r29"), (31, "r31"), (75, "r75")]


def test_a_parquet_task_reads_its_row_groups_through_one_file(ready_iris, owner, tasks_of_three, run):
    job = submit(owner, ready_iris.model, parquet_bytes(iris_like(64), row_group_size=8), "in.parquet",
                 id_column="id")
    # Row groups of 8 rows joined into chunks of 16 (at least 10), three chunks to a task.
    assert list(BatchChunk.objects.filter(job=job).order_by("index").values_list("start", "end", "rows")) == [
        (0, 6, 48), (6, 8, 16)]
    job = run(job)
    assert (job.status, job.rows_done) == ("succeeded", 64)
    output = pq.read_table(io.BytesIO(local_copy(job.output_key, job.output_sha256).read_bytes()))
    assert output.column("row").to_pylist() == list(range(1, 65))
    assert output.column("id").to_pylist() == [f"r{i}" for i in range(1, 65)]
    # A row group per task: its batches wait (well under write.ROW_GROUP_BYTES) and are written at once.
    assert pq.ParquetFile(io.BytesIO(local_copy(job.output_key, job.output_sha256).read_bytes())).num_row_groups == 2


def test_row_groups_far_larger_than_a_chunk_are_a_task_each(ready_iris, owner, tasks_of_three, run):
    """pyarrow's and Spark's default row groups hold a million rows or more: several workers still share
    such a file, one row group each, rather than one worker taking three of them."""
    job = submit(owner, ready_iris.model, parquet_bytes(iris_like(120), row_group_size=40), "in.parquet",
                 id_column="id")
    assert list(BatchChunk.objects.filter(job=job).order_by("index").values_list("start", "end", "rows")) == [
        (0, 1, 40), (1, 2, 40), (2, 3, 40)]  # 40 rows each: past 3 chunks x 10 rows
    job = run(job)
    assert (job.status, job.rows_done) == ("succeeded", 120)


def test_a_parquet_part_writes_its_batches_once_enough_bytes_wait(ready_iris, owner, tasks_of_three, run,
                                                                  monkeypatch):
    from batch.tables import write

    monkeypatch.setattr(write, "ROW_GROUP_BYTES", 1)  # every batch is enough: memory stays at one batch
    job = run(submit(owner, ready_iris.model, parquet_bytes(iris_like(64), row_group_size=8), "in.parquet",
                     id_column="id"))
    output = pq.ParquetFile(io.BytesIO(local_copy(job.output_key, job.output_sha256).read_bytes()))
    # A row group per batch of CHUNK_ROWS (10) read from each task's row groups: 48 = 4 x 10 + 8, 16 = 10 + 6.
    assert output.num_row_groups == 7
    assert output.read().column("row").to_pylist() == list(range(1, 65))


def test_a_json_lines_task_numbers_its_lines(ready_iris, owner, tasks_of_three, run):
    lines = jsonl_bytes(iris_like(35)).splitlines()
    lines[21] = b"{not json"
    job = submit(owner, ready_iris.model, b"\n".join(lines) + b"\n", "in.jsonl", id_column="id", max_error_rate=0.1,
                 output_format="csv")
    assert BatchChunk.objects.filter(job=job).count() == 2  # 30 + 5 lines
    job = run(job)
    assert (job.status, job.rows_done, job.rows_failed) == ("succeeded", 34, 1)
    assert output_rows(job) == [r for r in range(1, 36) if r != 22]
    assert error_rows(job) == [(22, None)]  # a line that is no JSON has no id to give
