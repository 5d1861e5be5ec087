"""Batch fixtures: generated inputs in every format, jobs submitted through the service, and a way to
run a job's chunks and its finalize step in this process (what a worker does, task by task)."""

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from batch import services
from batch.files import local_copy
from batch.models import BatchChunk, BatchJob
from batch.services.inputs import InputFile
from registry.uploads import uploaded_file_from_bytes

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def iris_like(rows: int, seed: int = 0) -> np.ndarray:
    """Rows in the ranges of the iris data set, so every class gets predicted."""
    rng = np.random.default_rng(seed)
    low, high = np.array([4.3, 2.0, 1.0, 0.1]), np.array([7.9, 4.4, 6.9, 2.5])
    return np.round(low + rng.random((rows, 4)) * (high - low), 2)


def table(values: np.ndarray, ids: bool = True) -> pa.Table:
    columns: dict[str, Any] = {"id": [f"r{i + 1}" for i in range(len(values))]} if ids else {}
    columns.update({name: values[:, j] for j, name in enumerate(FEATURES)})
    return pa.table(columns)


def csv_bytes(values: np.ndarray, ids: bool = True) -> bytes:
    header = (["id"] if ids else []) + FEATURES
    lines = [",".join(header)] + [",".join(([f"r{i + 1}"] if ids else []) + [repr(float(v)) for v in row])
                                  for i, row in enumerate(values)]
    return ("\n".join(lines) + "\n").encode()


def parquet_bytes(values: np.ndarray, ids: bool = True, row_group_size: int | None = None) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table(values, ids), buffer, row_group_size=row_group_size)
    return buffer.getvalue()


def jsonl_bytes(values: np.ndarray) -> bytes:
    import orjson

    return b"".join(orjson.dumps({"id": f"r{i + 1}", **dict(zip(FEATURES, map(float, row), strict=True))}) + b"\n"
                    for i, row in enumerate(values))


def bad_csv(rows: int, bad: list[int]) -> bytes:
    """A CSV whose data rows ``bad`` (1-based) hold a value that is no number."""
    lines = csv_bytes(iris_like(rows)).decode().splitlines()
    for row in bad:
        lines[row] = f"r{row},5.0,x,1.0,1.0"
    return ("\n".join(lines) + "\n").encode()


def output_rows(job: BatchJob) -> list[int]:
    """The input row numbers in a finished job's output, in its order, whatever its format."""
    data = local_copy(job.output_key, job.output_sha256).read_bytes()
    if job.output_format == "parquet":
        return pq.read_table(io.BytesIO(data)).column("row").to_pylist()
    if job.output_format == "csv":
        return pcsv.read_csv(io.BytesIO(data)).column("row").to_pylist()
    return [orjson.loads(line)["row"] for line in data.splitlines()]


def submit(actor: Any, model: Any, data: bytes, filename: str = "input.csv", *, alias: str | None = "production",
           version: int | None = None, **options: Any) -> BatchJob:
    with uploaded_file_from_bytes(filename, data) as upload:
        return services.job_create(actor=actor, model=model, alias=None if version else alias, version=version,
                                   source=InputFile.from_upload(upload), options=services.JobOptions(**options))


def run_here(job: BatchJob) -> BatchJob:
    """Every chunk, then the finalize step, as a worker would run their tasks."""
    for chunk_id in BatchChunk.objects.filter(job=job).order_by("index").values_list("id", flat=True):
        services.job_chunk_run(chunk_id=chunk_id)
    services.job_finalize(job_id=job.id)
    job.refresh_from_db()
    return job


@pytest.fixture
def small_chunks(settings: Any) -> int:
    settings.MODELYARD_BATCH_CHUNK_ROWS = 10
    settings.MODELYARD_BATCH_CHUNKS_PER_TASK = 1  # a task per planned chunk (test_task_chunks.py joins them)
    return 10


@pytest.fixture
def run() -> Callable[[BatchJob], BatchJob]:
    return run_here


@pytest.fixture(autouse=True)
def fresh_batch_runtimes() -> None:
    """Per-process caches (models, job plans) outlive a rolled-back test; ids may be reused after it."""
    from batch.services import plans, runtime

    runtime.clear()
    plans.clear()
