"""Celery tasks for batch jobs: ids in, one service call, retries owned here. Each is named after its service.

Every task is acks_late with reject_on_worker_lost: a worker that dies mid-task gives the message back
(prefork) or leaves it to the sweep (a whole worker gone), and the services make a second delivery
harmless. Services are imported inside the task bodies, so services may queue tasks.
"""

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from core.errors import Unavailable

_LIMIT = settings.MODELYARD_BATCH_TASK_TIME_LIMIT
# Transient: the database, the broker or storage briefly away. The chunk was released, not counted.
_TRANSIENT = (DatabaseError, ConnectionError, OSError, Unavailable)
_RELIABLE = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, "autoretry_for": _TRANSIENT,
             "max_retries": 8, "retry_backoff": 2, "retry_backoff_max": 120, "retry_jitter": True,
             "soft_time_limit": _LIMIT, "time_limit": _LIMIT + 60}
# Another delivery holds the chunk: look again when its lease could have run out, for about an hour.
_BUSY_RETRIES = 120


@shared_task(name="batch.job_chunk_run", **_RELIABLE)
def job_chunk_run(self: Any, chunk_id: int) -> str:
    from batch.services import ChunkBusy
    from batch.services import job_chunk_run as run

    try:
        return run(chunk_id=chunk_id)
    except ChunkBusy as busy:
        raise self.retry(countdown=busy.seconds, max_retries=_BUSY_RETRIES) from None


@shared_task(name="batch.job_finalize", **_RELIABLE)
def job_finalize(self: Any, job_id: int) -> str:
    from batch.services import job_finalize as finalize

    return finalize(job_id=job_id)


# Each sets its soft limit below its hard one: the global soft limit (MODELYARD_TASK_SOFT_TIME_LIMIT, 600 s) above
# a task's hard limit makes Celery refuse to send it at all (beat logged that for the sweep, which never ran).
@shared_task(name="batch.jobs_sweep", acks_late=True, reject_on_worker_lost=True, soft_time_limit=240,
             time_limit=300)
def jobs_sweep() -> dict[str, int]:
    """Beat, every minute: chunks a broker lost or a dead worker held are sent again; complete jobs
    are finalized; jobs past MODELYARD_BATCH_MAX_JOB_HOURS fail. Never stuck in running."""
    from batch.services import jobs_sweep as sweep

    return sweep()


@shared_task(name="batch.jobs_expire", acks_late=True, reject_on_worker_lost=True, soft_time_limit=3540,
             time_limit=3600)
def jobs_expire() -> dict[str, int]:
    """Beat, hourly: files of jobs finished more than MODELYARD_BATCH_RETENTION_DAYS ago (audited)."""
    from batch.services import jobs_expire as expire

    grace = max(timedelta(hours=24), timedelta(seconds=(_LIMIT + 60) * 3))
    return expire(older_than=timedelta(days=settings.MODELYARD_BATCH_RETENTION_DAYS), grace=grace)


@shared_task(name="batch.job_create_scheduled", acks_late=True, reject_on_worker_lost=True, soft_time_limit=540,
             time_limit=600)
def job_create_scheduled(**kwargs: Any) -> str:
    """For django-celery-beat entries (docs/batch.md): kwargs username, model, alias, input_from and the
    job options. A refusal (the user lost the role, the alias is gone) is logged and audited nowhere:
    nothing was created."""
    from batch.services import job_create_scheduled as create

    return str(create(**kwargs).uuid)
