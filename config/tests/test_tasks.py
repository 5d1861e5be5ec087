"""Beat flushes expired refresh tokens: the task is registered, scheduled, and deletes only expired rows."""

import datetime as dt

from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from registry.tests.factories import UserFactory


def outstanding(user, jti: str, expires_in: dt.timedelta) -> OutstandingToken:
    now = timezone.now()
    return OutstandingToken.objects.create(user=user, jti=jti, token=f"token-{jti}",
                                           created_at=now - dt.timedelta(days=8), expires_at=now + expires_in)


def test_flush_deletes_expired_refresh_tokens_and_their_blacklist_rows(db):
    from config.tasks import tokens_flush_expired

    user = UserFactory()
    expired = outstanding(user, "expired", -dt.timedelta(minutes=1))
    BlacklistedToken.objects.create(token=expired)
    revoked_but_live = outstanding(user, "revoked", dt.timedelta(days=1))
    BlacklistedToken.objects.create(token=revoked_but_live)
    live = outstanding(user, "live", dt.timedelta(days=6))

    tokens_flush_expired.apply().get()  # as a worker runs it (eagerly, in this process)

    assert set(OutstandingToken.objects.values_list("jti", flat=True)) == {"revoked", "live"}
    assert list(BlacklistedToken.objects.values_list("token__jti", flat=True)) == ["revoked"]
    assert live.pk in OutstandingToken.objects.values_list("pk", flat=True)


def test_the_flush_is_registered_with_the_worker_and_on_the_beat_schedule():
    from config.celery import app

    assert "config.tasks" in app.conf.imports  # config is not an installed app: autodiscovery misses it
    app.loader.import_default_modules()  # what a worker and beat do at start
    assert "auth.tokens_flush_expired" in app.tasks
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries["auth.tokens_flush_expired"]["schedule"] <= 24 * 3600
