"""Celery tasks: ids in, one service call, retries owned here. Each is named after its service.

Services are imported inside the task body, so services may queue tasks without an import circle.
The names before 2026-12 stay registered for one release: messages already queued under them, and
the beat entry stored in the database, still resolve.
"""

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings

from core.errors import Unavailable

# Unavailable: artifact storage is down; the version went back to pending and the sweeper re-queues
# it once these retries are used up.
# How many times a delivery that found a live lease looks again (each after one lease).
LEASE_RETRIES = 10
_VALIDATE = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, "max_retries": 3,
             "default_retry_delay": 5, "autoretry_for": (ConnectionError, Unavailable)}


@shared_task(name="registry.version_validate", **_VALIDATE)
def version_validate(self: Any, version_id: int) -> str:
    from registry.models import VersionStatus
    from registry.services.validation import version_validate as validate

    version = validate(version_id=version_id)
    if version.status == VersionStatus.VALIDATING:
        # Another delivery holds a live lease: this is the redelivery of a worker that died mid-validation
        # (its lease runs out), or a duplicate of a live one (it will find the version done). Look again once
        # the lease can have run out, rather than leaving the version to the sweeper minutes later.
        raise self.retry(countdown=settings.MODELYARD_VALIDATION_LEASE_SECONDS + 1, max_retries=LEASE_RETRIES)
    return version.status


@shared_task(name="registry.versions_sweep")
def versions_sweep() -> dict[str, int]:
    """Beat, every minute: nothing stays pending or validating because a broker or worker failed."""
    from registry.services.validation import versions_sweep as sweep

    return sweep(pending_after=timedelta(minutes=2),
                 validating_after=timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 3 + 60))


@shared_task(name="registry.artifacts_sweep_orphans")
def artifacts_sweep_orphans() -> dict[str, int]:
    """Beat, hourly: storage files no version references (a row that never committed, a conversion
    whose worker died). The grace period outlasts any validation, which saves before it commits."""
    from registry.services.storage import artifacts_sweep_orphans as sweep

    return sweep(older_than=max(timedelta(hours=24), timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 3)))


# Deprecated names (remove after the next release).
@shared_task(name="registry.tasks.validate_version", **_VALIDATE)
def validate_version(self: Any, version_id: int) -> str:
    return version_validate.run(version_id)


@shared_task(name="registry.tasks.sweep_versions")
def sweep_versions() -> dict[str, int]:
    return versions_sweep.run()


@shared_task(name="registry.versions_purge_deleted")
def versions_purge_deleted() -> dict[str, int]:
    """Beat, hourly: remove the files of versions deleted longer ago than the retention."""
    from registry.services.deletion import versions_purge_deleted as purge

    return purge(retention=timedelta(days=settings.MODELYARD_DELETED_RETENTION_DAYS))


@shared_task(name="registry.artifacts_reencrypt", bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=5, default_retry_delay=30, autoretry_for=(ConnectionError, Unavailable))
def artifacts_reencrypt(self: Any) -> dict[str, Any]:
    """After a key rotation (manage.py rotate_artifact_key): re-seal every artifact under the active key.
    Idempotent: files already under it are skipped, so a redelivery or a second run only checks."""
    from registry.services.encryption import artifacts_reencrypt as reencrypt

    return reencrypt()
