from datetime import timedelta

from celery import shared_task
from django.conf import settings

from registry.services.validation import version_validate, versions_sweep


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3, default_retry_delay=5,
             autoretry_for=(ConnectionError,))
def validate_version(self: object, version_id: int) -> str:
    return version_validate(version_id=version_id).status


@shared_task
def sweep_versions() -> dict[str, int]:
    """Beat, every minute: nothing stays pending or validating because a broker or worker failed."""
    return versions_sweep(pending_after=timedelta(minutes=2),
                          validating_after=timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 3 + 60))
