"""One chunk of a job, on a worker: claim it, read its rows, check them with the model kit, predict,
save the output and errors parts under fresh keys, then commit the chunk row.

Exactly once: a chunk's rows reach the output only through the one transition of its row from
``running`` to ``done`` made by the delivery that holds the lease, which records the part's key. A
part that was saved by a delivery that lost its lease, or for a job that stopped, is never recorded
and is deleted. A delivery that finds the chunk done does nothing.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from batch import tasks
from batch.files import discard, local_copy, part_key, save_file, scratch
from batch.models import OPEN_STATUSES, BatchChunk, BatchJob, ChunkState, JobStatus
from batch.selectors import job_totals
from batch.services.failures import ChunkFailed, job_fail
from batch.services.lease import lease_until, new_owner, renewing
from batch.services.runtime import ArtifactChanged, RuntimeLoadError, runtime_for
from batch.tables.check import check_batch
from batch.tables.read import ChunkSpec, Layout, Problem, read_chunk
from batch.tables.write import (
    PART_EXTENSIONS,
    OutputShapeError,
    PartWriter,
    output_columns,
    output_table,
    write_problems,
)

logger = logging.getLogger(__name__)
# Claims of one chunk whose worker died; the next one fails the job (a chunk that kills its worker).
MAX_ATTEMPTS = 3


class ChunkBusy(Exception):
    """Another delivery holds the chunk under a live lease; look again once it could have run out."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"chunk busy for {seconds:.0f} s")
        self.seconds = seconds


@dataclass
class ChunkResult:
    part: tuple[str, str] = ("", "")
    errors: tuple[str, str] = ("", "")
    rows_ok: int = 0
    rows_failed: int = 0
    columns: list[str] = field(default_factory=list)


def job_chunk_run(*, chunk_id: int) -> str:
    chunk = BatchChunk.objects.select_related("job__input", "job__version", "job__model").filter(pk=chunk_id).first()
    if chunk is None:
        return "gone"
    if chunk.job.status not in OPEN_STATUSES:
        return f"job {chunk.job.status}"
    if chunk.state == ChunkState.DONE:
        _next_step(chunk.job)  # the delivery that committed it may have died before this step
        return "done already"
    owner = _claim(chunk)
    if owner is None:
        return "nothing to do"
    if chunk.attempts > MAX_ATTEMPTS:
        job_fail(job_id=chunk.job_id, message=f"{_rows(chunk)} were started {MAX_ATTEMPTS} times and the worker "
                                              "died each time (out of memory, or past the task time limit?)")
        return "failed"
    try:
        with renewing(lambda: _held(chunk.pk, owner).update(lease_expires_at=lease_until()), f"chunk-{chunk.pk}"):
            result = _compute(chunk)
    except ChunkFailed as exc:
        job_fail(job_id=chunk.job_id, message=f"{_rows(chunk)}: {exc}")
        return "failed"
    except Exception as exc:
        if _transient(exc):  # storage or database briefly away: the task retries, this was no attempt
            logger.warning("chunk %s of job %s: %r; the task retries", chunk.index, chunk.job.uuid, exc, exc_info=True)
            _release(chunk.pk, owner)
            raise
        logger.exception("chunk %s of job %s failed", chunk.index, chunk.job.uuid)
        job_fail(job_id=chunk.job_id, message=f"{_rows(chunk)}: {_describe(exc)}")
        return "failed"
    return _commit(chunk, owner, result)


def _rows(chunk: BatchChunk) -> str:
    return f"Chunk {chunk.index} (rows {chunk.row_start + 1}-{chunk.row_start + chunk.rows})"


def _describe(exc: Exception) -> str:
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return f"took longer than the chunk time limit ({settings.MODELYARD_BATCH_TASK_TIME_LIMIT} s)"
    return f"internal error ({type(exc).__name__}); the worker log has the details"


def _transient(exc: Exception) -> bool:
    from django.db import DatabaseError

    from core.errors import Unavailable

    if isinstance(exc, FileNotFoundError):
        return False
    return isinstance(exc, DatabaseError | ConnectionError | OSError | Unavailable)


def _claim(chunk: BatchChunk) -> str | None:
    """This delivery takes the chunk: a first claim, or a lease that ran out. Only the chunk's row is
    written, with its conditions in the UPDATE itself, so two deliveries can never both win."""
    now, owner = timezone.now(), new_owner()
    claimable = Q(state=ChunkState.PENDING) | Q(state=ChunkState.RUNNING, lease_expires_at__lt=now)
    won = BatchChunk.objects.filter(claimable, pk=chunk.pk).update(
        state=ChunkState.RUNNING, lease_owner=owner, lease_expires_at=lease_until(), attempts=F("attempts") + 1)
    if not won:
        chunk.refresh_from_db(fields=["state", "lease_expires_at"])
        if chunk.state == ChunkState.RUNNING and chunk.lease_expires_at:
            raise ChunkBusy(max(1.0, (chunk.lease_expires_at - now).total_seconds() + 1))
        return None
    chunk.refresh_from_db(fields=["attempts"])
    BatchJob.objects.filter(pk=chunk.job_id, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING,
                                                                             started_at=now)
    return owner


def _held(chunk_id: int, owner: str) -> QuerySet[BatchChunk]:
    return BatchChunk.objects.filter(pk=chunk_id, state=ChunkState.RUNNING, lease_owner=owner)


def _release(chunk_id: int, owner: str) -> None:
    try:
        _held(chunk_id, owner).update(state=ChunkState.PENDING, lease_owner="", lease_expires_at=None,
                                      attempts=F("attempts") - 1)
    except Exception:  # the database is the thing that is away: the lease runs out by itself
        logger.warning("chunk %s: could not release the lease", chunk_id, exc_info=True)


def _compute(chunk: BatchChunk) -> ChunkResult:
    job = chunk.job
    try:
        runtime = runtime_for(job.version)
    except ArtifactChanged as exc:
        from registry.services import version_quarantine

        version_quarantine(version_id=job.version_id, reason=str(exc))
        raise ChunkFailed(f"{exc}; version {job.version.version} was taken out of service") from None
    except RuntimeLoadError as exc:
        raise ChunkFailed(f"The model cannot be loaded: {exc.message}") from None
    layout = Layout(job.input.columns, job.feature_columns, job.id_column)
    path = local_copy(job.input.storage_key, job.input.sha256)
    spec = ChunkSpec(chunk.row_start, chunk.rows, chunk.start, chunk.end)
    result, problems, ids = ChunkResult(), [], {} if job.id_column else None
    with scratch(f".{PART_EXTENSIONS[job.output_format]}") as part_path, scratch(".jsonl") as errors_path:
        writer = PartWriter(job.output_format, part_path)
        try:
            for batch in read_chunk(job.input.format, path, spec, layout, settings.MODELYARD_BATCH_CHUNK_ROWS):
                checked = check_batch(batch, layout.features, job.version.signature)
                problems += checked.problems
                if ids is not None:
                    ids.update(_problem_ids(batch.ids, checked.problems))
                if len(checked.keep):
                    columns = _predict(runtime, checked.inputs)
                    kept_ids = batch.ids.take(checked.keep) if batch.ids is not None else None
                    writer.write(output_table(batch.rows[checked.keep], kept_ids, job.id_column, columns))
        finally:
            writer.close()
        result.rows_ok, result.columns = writer.rows, writer.columns
        result.rows_failed = write_problems(errors_path, problems, ids) if problems else 0
        if result.rows_ok:
            key = part_key(job.uuid, chunk.index, "out", PART_EXTENSIONS[job.output_format])
            result.part = (key, save_file(key, part_path))
        if result.rows_failed:
            key = part_key(job.uuid, chunk.index, "errors", "jsonl")
            result.errors = (key, save_file(key, errors_path))
    return result


def _problem_ids(ids: Any, problems: list[Problem]) -> dict[int, Any]:
    if ids is None:
        return {}
    return {p.row: ids[p.position].as_py() for p in problems if p.position is not None}


def _predict(runtime: Any, inputs: Any) -> dict[str, Any]:
    try:
        return output_columns(runtime.predict(inputs), len(inputs))
    except OutputShapeError as exc:
        raise ChunkFailed(str(exc)) from None
    except Exception as exc:
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            raise
        logger.exception("the model failed on a checked batch")
        raise ChunkFailed(f"The model failed on checked rows: {type(exc).__name__}") from exc


def _commit(chunk: BatchChunk, owner: str, result: ChunkResult) -> str:
    with transaction.atomic():  # the write comes first: SQLite takes its write lock before any read
        done = _held(chunk.pk, owner).update(
            state=ChunkState.DONE, lease_expires_at=None, part_key=result.part[0],
            part_sha256=result.part[1], errors_key=result.errors[0], errors_sha256=result.errors[1],
            rows_ok=result.rows_ok, rows_failed=result.rows_failed, output_columns=result.columns,
            finished_at=timezone.now())
        if done and not BatchJob.objects.filter(pk=chunk.job_id, status__in=OPEN_STATUSES).exists():
            transaction.set_rollback(True)  # the job stopped meanwhile: this part is not wanted
            done = 0
    if not done:  # the job stopped, or the lease went to another delivery: this part is not the one
        discard(result.part[0])
        discard(result.errors[0])
        return "dropped"
    _next_step(chunk.job, failures=result.rows_failed > 0)
    return "done"


def _next_step(job: BatchJob, failures: bool = True) -> None:
    """Counted after the commit, so the last chunk to commit always sees every other one done."""
    remaining = BatchChunk.objects.filter(job_id=job.id).exclude(state=ChunkState.DONE).exists()
    if not remaining or (failures and job_totals(job.id)[1] > job.max_error_rate * job.rows_total):
        tasks.job_finalize.delay(job.id)
