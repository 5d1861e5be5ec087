"""Stop model runs at their deadline: one watchdog thread per process, armed per call.

onnxruntime checks ``RunOptions.terminate`` between kernels, so a run that passes its deadline
really stops (a ``Loop`` whose trip count comes from the input included) instead of being abandoned
on a thread. Arming costs a dict insert; the watchdog ticks only while runs are armed, and is woken
(a lock and a notify) only when it sleeps with nothing armed, not on every call.
"""

import itertools
import threading
import time
from typing import Any

TICK_SECONDS = 0.01


class Watchdog:
    def __init__(self) -> None:
        self._armed: dict[int, tuple[float, Any]] = {}
        self._ids = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._idle = True  # the watchdog waits for something to be armed (or has not started)

    def arm(self, timeout: float, run_options: Any) -> int:
        """Set ``run_options.terminate`` once ``timeout`` seconds have passed, unless disarmed first."""
        ticket = next(self._ids)
        self._armed[ticket] = (time.monotonic() + timeout, run_options)  # atomic under the GIL
        # Read after the insert: a watchdog that is not idle yet sees the entry when it checks before waiting.
        if self._idle:
            with self._wake:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._watch, name="modelkit-deadline", daemon=True)
                    self._thread.start()
                self._wake.notify()
        return ticket

    def disarm(self, ticket: int) -> None:
        self._armed.pop(ticket, None)  # atomic under the GIL; the watchdog tolerates a missing entry

    def _watch(self) -> None:
        while True:
            with self._wake:
                self._idle = True  # set before the check: an arm after it notifies, one before it is seen
                while not self._armed:
                    self._wake.wait()
                self._idle = False
            now = time.monotonic()
            for ticket, (deadline, options) in list(self._armed.items()):
                if deadline <= now and self._armed.pop(ticket, None) is not None:
                    options.terminate = True
            time.sleep(TICK_SECONDS)


watchdog = Watchdog()
