"""Beat's side of batch jobs: nothing stays stuck (``jobs_sweep``), nothing stays forever (``jobs_expire``)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from batch import tasks
from batch.models import OPEN_STATUSES, BatchChunk, BatchJob, ChunkState, JobStatus
from batch.services.failures import job_fail

logger = logging.getLogger(__name__)
_LIMIT = 1000


def jobs_sweep() -> dict[str, int]:
    """Send again what a broker lost or a dead worker held; finalize what is complete; fail what is
    too old. Sending twice is harmless: a chunk or a finalize step that is done does nothing."""
    now = timezone.now()
    failed = _fail_too_old(now)
    requeued = _requeue_chunks(now)
    finalizing = _requeue_finalize(now)
    if failed or requeued or finalizing:
        logger.info("batch sweep: %s chunks sent again, %s jobs to finalize, %s failed", requeued, finalizing, failed)
    return {"requeued": requeued, "finalize": finalizing, "failed": failed}


def _fail_too_old(now: object) -> int:
    hours = settings.MODELYARD_BATCH_MAX_JOB_HOURS
    old = BatchJob.objects.filter(status__in=OPEN_STATUSES, created_at__lt=now - timedelta(hours=hours))
    return sum(job_fail(job_id=job_id, message=f"The job did not finish within {hours} hours and was stopped")
               for job_id in old.values_list("id", flat=True)[:_LIMIT])


def _requeue_chunks(now: object) -> int:
    quiet = now - timedelta(seconds=settings.MODELYARD_BATCH_REQUEUE_SECONDS)
    lost = Q(state=ChunkState.PENDING) | Q(state=ChunkState.RUNNING, lease_expires_at__lt=now)
    stale = BatchChunk.objects.filter(lost, job__status__in=OPEN_STATUSES).filter(
        Q(enqueued_at__lt=quiet) | Q(enqueued_at__isnull=True))
    ids = list(stale.order_by("job_id", "index").values_list("id", flat=True)[:_LIMIT])
    for chunk_id in ids:
        BatchChunk.objects.filter(pk=chunk_id).update(enqueued_at=now)
        tasks.job_chunk_run.delay(chunk_id)
    return len(ids)


def _requeue_finalize(now: object) -> int:
    jobs = BatchJob.objects.filter(status=JobStatus.RUNNING).filter(
        Q(finalize_owner="") | Q(finalize_expires_at__lt=now)).annotate(
        open_chunks=Count("chunks", filter=~Q(chunks__state=ChunkState.DONE)),
        refused=Sum("chunks__rows_failed", filter=Q(chunks__state=ChunkState.DONE), default=0))
    ready = [job.id for job in jobs[:_LIMIT]
             if not job.open_chunks or job.refused > job.max_error_rate * job.rows_total]
    for job_id in ready:
        tasks.job_finalize.delay(job_id)
    return len(ready)
