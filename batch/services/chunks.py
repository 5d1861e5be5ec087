"""One chunk of a job, on a worker: claim it, read its rows, check them with the model kit, predict,
save the output and errors parts under fresh keys, then commit the chunk row.

Exactly once: a chunk's rows reach the output only through the one transition of its row from
``running`` to ``done`` made by the delivery that holds the lease, which records the part's key. A
part that was saved by a delivery that lost its lease, or for a job that stopped, is never recorded
and is deleted. A delivery that finds the chunk done does nothing. Each chunk costs the database a
handful of statements on its own row; what a job's chunks share is read once per process (plans.py).
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from batch.files import discard, local_copy, part_key, save_file, scratch
from batch.models import OPEN_STATUSES, BatchChunk, BatchJob, ChunkState, JobStatus
from batch.selectors import job_totals
from batch.services.failures import ChunkFailed, job_fail, out_of_time
from batch.services.finalize import job_finalize
from batch.services.lease import lease_until, losable, losably, new_owner, renewing
from batch.services.plans import JobPlan, job_plan
from batch.services.runtime import ArtifactChanged, RuntimeLoadError, runtime_for
from batch.tables.check import check_batch
from batch.tables.plan import plan_within
from batch.tables.read import ChunkSpec, Problem, read_chunk
from batch.tables.write import (
    EXTENSIONS,
    OutputShapeError,
    PartWriter,
    output_columns,
    output_table,
    write_problems,
)

logger = logging.getLogger(__name__)
# Claims of one chunk whose worker died; the next one fails the job (a chunk that kills its worker).
MAX_ATTEMPTS = 3
_FIELDS = ("id", "job_id", "index", "row_start", "rows", "start", "end", "state", "attempts", "lease_expires_at",
           "job__status")


# A running task writes its progress to its own row this often, in the statement that also finds out
# whether its job was cancelled (or failed) or its claim went to another delivery: a cancel stops it
# within about this long and a chunk, and the progress bar moves while a long task runs.
LOOK_SECONDS = 1.0


class JobStopped(Exception):
    """The job was cancelled or failed, or the lease was taken over, while one of its tasks ran."""


class _Watch:
    def __init__(self, chunk_id: int, owner: str) -> None:
        self.chunk_id, self.owner, self.next = chunk_id, owner, time.monotonic() + LOOK_SECONDS

    def check(self, rows_ok: int, rows_failed: int) -> None:
        if time.monotonic() < self.next:
            return
        with losable():
            held = _held(self.chunk_id, self.owner).filter(_job_open())
            still = held.update(rows_ok=rows_ok, rows_failed=rows_failed)
        if not still:
            raise JobStopped
        self.next = time.monotonic() + LOOK_SECONDS


class ChunkBusy(Exception):
    """Another delivery holds the chunk under a live lease; look again once it could have run out."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"chunk busy for {seconds:.0f} s")
        self.seconds = seconds


@dataclass(frozen=True)
class Chunk:
    id: int
    job_id: int
    index: int
    row_start: int
    rows: int
    start: int
    end: int
    state: str
    attempts: int
    lease_expires_at: datetime | None
    job_status: str

    @property
    def label(self) -> str:
        return f"Chunk {self.index} (rows {self.row_start + 1}-{self.row_start + self.rows})"


@dataclass
class ChunkResult:
    part: tuple[str, str] = ("", "")
    errors: tuple[str, str] = ("", "")
    rows_ok: int = 0
    rows_failed: int = 0
    columns: list[str] = field(default_factory=list)


def chunk_get(chunk_id: int) -> Chunk | None:
    row = BatchChunk.objects.filter(pk=chunk_id).values_list(*_FIELDS).first()
    return Chunk(*row) if row else None


def job_chunk_run(*, chunk_id: int) -> str:
    chunk = chunk_get(chunk_id)
    if chunk is None:
        return "gone"
    if chunk.job_status not in OPEN_STATUSES:
        return f"job {chunk.job_status}"
    if chunk.state == ChunkState.DONE:
        _next_step(job_plan(chunk.job_id))  # the delivery that committed it may have died before this step
        return "done already"
    owner = _claim(chunk)
    if owner is None:
        return "nothing to do"
    if chunk.attempts + 1 > MAX_ATTEMPTS:
        job_fail(job_id=chunk.job_id, message=f"{chunk.label} were started {MAX_ATTEMPTS} times and the worker "
                                              "died each time (out of memory, or past the task time limit?)")
        return "failed"
    plan = job_plan(chunk.job_id)
    try:
        with renewing(losably(lambda: _held(chunk.id, owner).update(lease_expires_at=lease_until())),
                      f"chunk-{chunk.id}"):
            result = _compute(plan, chunk, _Watch(chunk.id, owner))
    except ChunkFailed as exc:
        job_fail(job_id=chunk.job_id, message=f"{chunk.label}: {exc}")
        return "failed"
    except JobStopped:  # its parts were local files still, and are gone
        _release(chunk.id, owner)
        return "job stopped"
    except Exception as exc:
        if _transient(exc):  # storage or database briefly away: the task retries, this was no attempt
            logger.warning("%s of job %s: %r; the task retries", chunk.label, plan.uuid, exc, exc_info=True)
            _release(chunk.id, owner)
            raise
        logger.exception("%s of job %s failed", chunk.label, plan.uuid)
        job_fail(job_id=chunk.job_id, message=f"{chunk.label}: {_describe(exc)}")
        return "failed"
    return _commit(plan, chunk, owner, result)


def _describe(exc: Exception) -> str:
    if out_of_time(exc):
        return (f"took longer than the task time limit ({settings.MODELYARD_BATCH_TASK_TIME_LIMIT} s); for a model "
                "this slow, an operator lowers MODELYARD_BATCH_CHUNKS_PER_TASK")
    return f"internal error ({type(exc).__name__}); the worker log has the details"


def _transient(exc: Exception) -> bool:
    from django.db import DatabaseError

    from core.errors import Unavailable

    if isinstance(exc, FileNotFoundError):
        return False
    return isinstance(exc, DatabaseError | ConnectionError | OSError | Unavailable)


def _claim(chunk: Chunk) -> str | None:
    """This delivery takes the chunk: a first claim, or a lease that ran out. The conditions are in
    the UPDATE on the chunk's own row, so two deliveries can never both win."""
    now, owner = timezone.now(), new_owner()
    claimable = Q(state=ChunkState.PENDING) | Q(state=ChunkState.RUNNING, lease_expires_at__lt=now)
    with losable():  # the job's move to running with it: lost together, redone together
        won = BatchChunk.objects.filter(claimable, pk=chunk.id).update(
            state=ChunkState.RUNNING, lease_owner=owner, lease_expires_at=lease_until(), attempts=F("attempts") + 1,
            rows_ok=0, rows_failed=0)  # the progress an earlier delivery wrote is redone
        if won and chunk.job_status == JobStatus.QUEUED:
            BatchJob.objects.filter(pk=chunk.job_id, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING,
                                                                                     started_at=now)
    if not won:
        latest = chunk_get(chunk.id)
        if latest and latest.state == ChunkState.RUNNING and latest.lease_expires_at:
            raise ChunkBusy(max(1.0, (latest.lease_expires_at - now).total_seconds() + 1))
        return None
    return owner


def _held(chunk_id: int, owner: str) -> QuerySet[BatchChunk]:
    return BatchChunk.objects.filter(pk=chunk_id, state=ChunkState.RUNNING, lease_owner=owner)


def _job_open() -> Exists:
    """For a filter on chunk rows: their job is still queued or running."""
    return Exists(BatchJob.objects.filter(pk=OuterRef("job_id"), status__in=OPEN_STATUSES))


def _release(chunk_id: int, owner: str) -> None:
    try:
        _held(chunk_id, owner).update(state=ChunkState.PENDING, lease_owner="", lease_expires_at=None,
                                      attempts=F("attempts") - 1, rows_ok=0, rows_failed=0)
    except Exception:  # the database is the thing that is away: the lease runs out by itself
        logger.warning("chunk %s: could not release the lease", chunk_id, exc_info=True)


def _runtime(plan: JobPlan) -> Any:
    try:
        return runtime_for(plan.version)
    except ArtifactChanged as exc:
        from registry.services import version_quarantine

        version_quarantine(version_id=plan.version.id, reason=str(exc))
        raise ChunkFailed(f"{exc}; version {plan.version.version} was taken out of service") from None
    except RuntimeLoadError as exc:
        raise ChunkFailed(f"The model cannot be loaded: {exc.message}") from None
    except FileNotFoundError:
        raise ChunkFailed(f"The file of version {plan.version.version} is not in artifact storage") from None


def _compute(plan: JobPlan, chunk: Chunk, watch: _Watch) -> ChunkResult:
    runtime, layout = _runtime(plan), plan.layout
    path = local_copy(plan.input_key, plan.input_sha256)
    specs = [ChunkSpec(*piece) for piece in plan_within(plan.chunks, [chunk.row_start, chunk.rows, chunk.start,
                                                                      chunk.end])]
    result, problems, ids = ChunkResult(), [], {} if layout.id_column else None
    extension = EXTENSIONS[plan.output_format]
    with scratch(f".{extension}") as part_path, scratch(".jsonl") as errors_path:
        writer = PartWriter(plan.output_format, part_path)
        try:
            for batch in read_chunk(plan.input_format, path, specs, layout, settings.MODELYARD_BATCH_CHUNK_ROWS):
                watch.check(writer.rows, len(problems))
                checked = check_batch(batch, layout.features, plan.version.signature)
                problems += checked.problems
                if ids is not None:
                    ids.update(_problem_ids(batch.ids, checked.problems))
                if len(checked.keep):
                    columns = _predict(runtime, checked.inputs)
                    whole = len(checked.keep) == len(batch.rows)  # nothing refused: no copies
                    kept_ids = batch.ids if whole or batch.ids is None else batch.ids.take(checked.keep)
                    rows = batch.rows if whole else batch.rows[checked.keep]
                    writer.write(output_table(rows, kept_ids, layout.id_column, columns))
        finally:
            writer.close()
        result.rows_ok, result.columns = writer.rows, writer.columns
        result.rows_failed = write_problems(errors_path, problems, ids) if problems else 0
        if result.rows_ok:
            key = part_key(plan.uuid, chunk.index, "out", extension)
            result.part = (key, save_file(key, part_path))
        if result.rows_failed:
            key = part_key(plan.uuid, chunk.index, "errors", "jsonl")
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
        if out_of_time(exc):
            raise
        logger.exception("the model failed on a checked batch")
        raise ChunkFailed(f"The model failed on checked rows: {type(exc).__name__}") from exc


def _commit(plan: JobPlan, chunk: Chunk, owner: str, result: ChunkResult) -> str:
    """One UPDATE: this delivery still holds the lease and the job is still open, or nothing changes.
    Losable (lease.py): lost in a database crash, the chunk is run again and this part, never recorded
    then, goes with the job's other leftovers when the job is finalized."""
    with losable():
        done = _held(chunk.id, owner).filter(_job_open()).update(
            state=ChunkState.DONE, lease_expires_at=None, part_key=result.part[0], part_sha256=result.part[1],
            errors_key=result.errors[0], errors_sha256=result.errors[1], rows_ok=result.rows_ok,
            rows_failed=result.rows_failed, output_columns=result.columns, finished_at=timezone.now())
    if not done:  # the job stopped, or the lease went to another delivery: this part is not the one
        discard(result.part[0])
        discard(result.errors[0])
        return "dropped"
    _next_step(plan, failures=result.rows_failed > 0)
    return "done"


def _next_step(plan: JobPlan, failures: bool = True) -> None:
    """Counted after the commit, so the last chunk to commit always sees every other one done. That
    delivery finalizes the job itself (no trip through the broker); if finalizing fails for a while
    (storage away), the task's retry finds the chunk done and comes back here, and the sweep finalizes
    any complete job that is still running."""
    remaining = BatchChunk.objects.filter(job_id=plan.id).exclude(state=ChunkState.DONE).exists()
    if not remaining or (failures and job_totals(plan.id)[1] > plan.max_error_rate * plan.rows_total):
        job_finalize(job_id=plan.id, inline=True)
