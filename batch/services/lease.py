"""Leases: which delivery of a task holds a chunk (or a job's finalize step), and for how long.

A claim is one conditional UPDATE on the chunk's own row (no lock held, no other row touched); a
thread renews it every third of ``MODELYARD_BATCH_LEASE_SECONDS`` while the work runs, because a
chunk's model call cannot stop to beat. A worker that dies stops renewing; once the lease runs out
another delivery takes the work over. Whoever commits checks that it still holds the lease.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

logger = logging.getLogger(__name__)


def lease_length() -> timedelta:
    return timedelta(seconds=settings.MODELYARD_BATCH_LEASE_SECONDS)


def lease_until() -> datetime:
    return timezone.now() + lease_length()


def new_owner() -> str:
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@contextmanager
def renewing(renew: Callable[[], int], name: str) -> Iterator[None]:
    """Call ``renew`` (an UPDATE that returns the rows it changed) from a thread until the block ends."""
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(renew, name, stop), name=f"lease-{name}", daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join(timeout=10)


def _beat(renew: Callable[[], int], name: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(settings.MODELYARD_BATCH_LEASE_SECONDS / 3):
            try:
                if not renew():
                    logger.warning("%s: the lease was taken over or ended", name)
                    return
            except DatabaseError:  # the next beat may get through; the lease lasts three beats
                logger.warning("%s: lease renewal failed", name, exc_info=True)
    finally:
        connections.close_all()  # this thread's connections only
