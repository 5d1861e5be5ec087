"""The lease keeper: while a lease is held, one thread per process renews it every third of the lease."""

import threading
import time

from batch.services.lease import renewing


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
