"""Project-level Celery tasks (not an installed app: registered through ``CELERY_IMPORTS`` in settings)."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="auth.tokens_flush_expired")
def tokens_flush_expired() -> None:
    """Beat, daily: delete expired refresh tokens (simplejwt's ``flushexpiredtokens``).

    Every issued refresh token leaves an ``OutstandingToken`` row, and every rotation or revocation a
    ``BlacklistedToken`` row; an expired token is refused on its expiry alone, so both rows can go
    (the blacklist row is deleted with its token).
    """
    call_command("flushexpiredtokens")
