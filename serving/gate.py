"""A counting semaphore for the admission of predictions, cheap when nobody waits.

``threading.BoundedSemaphore`` is written in Python around a ``Condition``: every release also asks
the lock whether it is held and copies the waiters into a new deque, so a prediction's two admissions
(its model's share of the request threads, then its in-flight slot) cost about 3 us of CPU even when
no thread ever waits. A ``Gate`` takes its lock once per acquire and once per release and touches the
condition only when a thread is waiting. Same calls and results: ``acquire(blocking, timeout)`` ->
bool, ``release()`` (past the limit it raises ``ValueError``, as a bounded semaphore does).
"""

import threading


class Gate:
    __slots__ = ("limit", "_taken", "_waiting", "_lock", "_freed")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._taken = 0
        self._waiting = 0
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        with self._lock:
            if self._taken < self.limit:
                self._taken += 1
                return True
            if not blocking:
                return False
            self._waiting += 1
            try:
                if not self._freed.wait_for(lambda: self._taken < self.limit, timeout):
                    return False
            finally:
                self._waiting -= 1
            self._taken += 1
            return True

    def release(self) -> None:
        with self._lock:
            if self._taken <= 0:
                raise ValueError("Gate released too many times")
            self._taken -= 1
            if self._waiting:
                self._freed.notify()

    @property
    def taken(self) -> int:
        return self._taken
