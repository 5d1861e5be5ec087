"""Leases: which delivery of a task holds a chunk (or a job's finalize step), and for how long.

A claim is one conditional UPDATE on the chunk's own row (the first claim of a job also marks the job
running, in the same transaction: nothing locks the two rows the other way round). While
the work runs, one keeper thread per process renews every lease the process holds, every third of
``MODELYARD_BATCH_LEASE_SECONDS``: a model call cannot stop to beat, and one long-lived thread costs a
chunk nothing (a thread per chunk would). A worker that dies stops renewing; once its lease has run
out another delivery takes the work over. Whoever commits checks that it still holds the lease.

Claims (with the job's move to running), renewals, progress and a chunk's commit are written
``losable``: committed without waiting for PostgreSQL to flush them to disk. A crash loses the newest of
them only (the log is replayed in order), and every later durable commit (a job's output, its failure,
its cancel) flushes them first; parts are deleted only after such a commit. A lost claim makes the
conditional commit after it find nothing and drop its work; a lost chunk commit leaves the chunk to the
sweep, which sends it again, and the part it had recorded goes with the job's other leftover parts.
Each flush waits for the disk, which the worker's own files keep busy: 3 to 5 ms a statement when
PostgreSQL shares the worker's disk, on the path of every chunk.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def lease_length() -> timedelta:
    return timedelta(seconds=settings.MODELYARD_BATCH_LEASE_SECONDS)


def lease_until() -> datetime:
    return timezone.now() + lease_length()


@contextmanager
def losable() -> Iterator[None]:
    """One transaction whose loss in a database crash is harmless: PostgreSQL's asynchronous commit
    (``synchronous_commit`` off for it alone). Others see it at once; a later durable commit flushes it
    too. Inside another transaction, or on SQLite, it commits as that transaction does: the setting would
    last until the outer commit, which may be one that must be durable."""
    alone = connection.get_autocommit()  # not in a transaction of Django's or of the caller's own
    with transaction.atomic():
        if alone and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def new_owner() -> str:
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class _Keeper:
    def __init__(self) -> None:
        self._renewals: dict[str, Callable[[], int]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pid: int | None = None

    @contextmanager
    def holding(self, name: str, renew: Callable[[], int]) -> Iterator[None]:
        """Renew (an UPDATE returning the rows it changed) until the block ends."""
        with self._lock:
            self._renewals[name] = renew
            if self._pid != os.getpid():  # first use in this process (a prefork child included)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="batch-leases", daemon=True).start()
        self._wake.set()  # a new lease: count its first third from now
        try:
            yield
        finally:
            with self._lock:
                self._renewals.pop(name, None)

    def _run(self) -> None:
        while True:
            if self._wake.wait(settings.MODELYARD_BATCH_LEASE_SECONDS / 3):
                self._wake.clear()
                continue
            close_old_connections()  # this thread's own: a restarted PostgreSQL left it a dead one
            with self._lock:
                renewals = list(self._renewals.items())
            for name, renew in renewals:
                try:
                    if not renew():  # it ended meanwhile, or another delivery took it over
                        logger.info("%s: no lease to renew", name)
                except DatabaseError:  # the next round may get through; a lease lasts three rounds
                    logger.warning("%s: lease renewal failed", name, exc_info=True)


_keeper = _Keeper()


def renewing(renew: Callable[[], int], name: str) -> AbstractContextManager[None]:
    return _keeper.holding(name, renew)


def losably(write: Callable[[], int]) -> Callable[[], int]:
    """``write`` (a renewal) run as a ``losable`` transaction: a lost renewal only shortens the lease."""

    def run() -> int:
        with losable():
            return write()

    return run
