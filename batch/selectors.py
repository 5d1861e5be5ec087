"""Reads: which jobs a caller may see, one job by id, and a job's progress."""

import uuid
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from batch.models import OPEN_STATUSES, BatchChunk, BatchJob, ChunkState
from core.errors import NotFound
from registry.models import Membership, ModelVersion, Role
from registry.permissions import User, require_role

# Batch jobs hold predictions: reading them takes the role that may make predictions.
READ_ROLE = Role.PREDICTOR
_DONE = Q(chunks__state=ChunkState.DONE)
# Progress counts the rows of finished tasks and what running ones wrote so far (at most a second old;
# a task that dies takes its part back: a claim starts its row from zero).
_STARTED = (ChunkState.DONE, ChunkState.RUNNING)
_COUNTED = Q(chunks__state__in=_STARTED)


def _with_progress(jobs: QuerySet[BatchJob]) -> QuerySet[BatchJob]:
    """Each job with its tasks' rows summed: one grouped query for a whole page."""
    return jobs.select_related("team", "model", "version", "input", "created_by").annotate(
        chunk_rows_ok=Coalesce(Sum("chunks__rows_ok", filter=_COUNTED), 0),
        chunk_rows_failed=Coalesce(Sum("chunks__rows_failed", filter=_COUNTED), 0),
        chunks_done=Count("chunks", filter=_DONE), chunks_total=Count("chunks"))


def jobs_visible(user: User) -> QuerySet[BatchJob]:
    jobs = BatchJob.objects.all()
    if not user.is_staff:
        ranks = [role for role in Role.values if Role.rank(role) >= Role.rank(READ_ROLE)]
        teams = Membership.objects.filter(user=user, role__in=ranks).values("team_id")
        jobs = jobs.filter(team_id__in=teams)
    return _with_progress(jobs)


def job_get_for_user(*, user: User, job_id: uuid.UUID | str, role: str = READ_ROLE,
                     field: str | None = None) -> BatchJob:
    """Outsiders get 404 whatever the id; members below ``role`` get 403."""
    try:
        key = uuid.UUID(str(job_id))
    except ValueError:
        raise NotFound("Batch job not found", field=field) from None
    job = _with_progress(BatchJob.objects.filter(uuid=key)).first()
    if job is None:
        raise NotFound(f"Batch job {key} not found", field=field)
    require_role(user, job.team_id, role, what=f"Batch job {key} not found", field=field)
    return job


def job_totals(job_id: int, *, running: bool = False) -> tuple[int, int]:
    """Rows written and rows refused so far, summed over the job's finished chunks (``running``: and
    what its running tasks wrote so far, for progress)."""
    states = _STARTED if running else (ChunkState.DONE,)
    sums = BatchChunk.objects.filter(job_id=job_id, state__in=states).aggregate(
        ok=Sum("rows_ok"), failed=Sum("rows_failed"))
    return sums["ok"] or 0, sums["failed"] or 0


def done_sums() -> dict[str, Coalesce]:
    """Rows written and refused over a job's finished chunks, as expressions for the job's own UPDATE:
    counted in the statement that changes the status, so no chunk committing meanwhile is missed."""
    finished = BatchChunk.objects.filter(job_id=OuterRef("pk"), state=ChunkState.DONE).values("job_id")
    return {name: Coalesce(Subquery(finished.annotate(total=Sum(field)).values("total")), 0)
            for name, field in (("rows_done", "rows_ok"), ("rows_failed", "rows_failed"))}


@dataclass(frozen=True)
class Progress:
    rows_done: int
    rows_failed: int
    fraction: float
    rows_per_second: float | None
    eta_seconds: float | None


def job_progress(job: BatchJob) -> Progress:
    """From the tasks' rows while the job runs, from the job row once it has finished."""
    if job.status in OPEN_STATUSES:
        done = getattr(job, "chunk_rows_ok", None)
        failed = getattr(job, "chunk_rows_failed", None)
        if done is None or failed is None:
            done, failed = job_totals(job.pk, running=True)
    else:
        done, failed = job.rows_done, job.rows_failed
    processed = done + failed
    fraction = 1.0 if not job.rows_total else min(1.0, processed / job.rows_total)
    end = job.finished_at or timezone.now()
    seconds = (end - job.started_at).total_seconds() if job.started_at else 0.0
    rate = processed / seconds if seconds > 0 and processed else None
    eta = None
    if job.status in OPEN_STATUSES and rate:
        eta = round(max(0, job.rows_total - processed) / rate, 1)
    return Progress(done, failed, round(fraction, 4), round(rate, 1) if rate else None, eta)


def version_batch_uses(version: ModelVersion) -> list[str]:
    """What the registry asks before archiving or deleting a version: the open jobs that run it."""
    jobs = BatchJob.objects.filter(version=version, status__in=OPEN_STATUSES).values_list("uuid", flat=True)
    return [f"batch job {job}" for job in jobs[:20]]
