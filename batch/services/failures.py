"""A job that cannot finish stops with a message a person can act on, on the record."""

from django.db import transaction
from django.utils import timezone

from batch.files import discard_folder, job_folder
from batch.models import OPEN_STATUSES, BatchJob, JobStatus
from batch.selectors import done_sums
from registry.services.audit import audit_record


class ChunkFailed(Exception):
    """A reason that holds for every retry (the model raised, its file changed): the job fails."""


def out_of_time(exc: BaseException) -> bool:
    """Celery's soft time limit, raised inside the task's work (named, not imported: services run
    without a worker too)."""
    return type(exc).__name__ == "SoftTimeLimitExceeded"


def job_fail(*, job_id: int, message: str) -> bool:
    """Fail an open job (idempotent); its parts go. True if this call did it."""
    with transaction.atomic():  # the write comes first: SQLite takes its write lock before any read
        changed = BatchJob.objects.filter(pk=job_id, status__in=OPEN_STATUSES).update(
            status=JobStatus.FAILED, status_message=message[:4000], finished_at=timezone.now(),
            finalize_owner="", **done_sums())
        job = BatchJob.objects.select_related("team").get(pk=job_id)
        if changed:
            audit_record(actor=None, action="batch_job.failed", target=f"batch_job:{job.uuid}", team=job.team,
                         after={"status": JobStatus.FAILED, "message": message[:500], "rows_done": job.rows_done})
            folder = job_folder(job.uuid)
            transaction.on_commit(lambda: discard_folder(folder), robust=True)
    return bool(changed)
