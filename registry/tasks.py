from celery import shared_task

from registry.services.validation import version_validate


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3, default_retry_delay=5,
             autoretry_for=(ConnectionError,))
def validate_version(self: object, version_id: int) -> str:
    return version_validate(version_id=version_id).status
