"""The lease keeper: while a lease is held, one thread per process renews it every third of the lease; and
the writes a database crash may lose (claims, renewals, progress, a chunk's commit)."""

import threading
import time

import pytest

from batch.services.lease import losable, renewing


def test_a_held_lease_is_renewed_until_it_is_let_go(settings):
    settings.MODELYARD_BATCH_LEASE_SECONDS = 0.6  # a round every 0.2 s
    renewed = threading.Event()
    calls: list[float] = []

    def renew() -> int:
        calls.append(time.monotonic())
        renewed.set()
        return 1

    with renewing(renew, "test-lease"):
        assert renewed.wait(5)
    count = len(calls)
    time.sleep(0.6)
    assert len(calls) == count  # let go: no more renewals


def _synchronous_commit() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_losable_write_alone_skips_the_flush_and_only_that_transaction_does():
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("asynchronous commit is PostgreSQL's")
    with losable():
        assert _synchronous_commit() == "off"
    assert _synchronous_commit() == "on"
    with transaction.atomic():  # the outer transaction may have to be durable: it decides
        with losable():
            assert _synchronous_commit() == "on"
