"""Stop model runs at their deadline: one watchdog thread per process, armed per call.

onnxruntime checks ``RunOptions.terminate`` between kernels, so a run that passes its deadline
really stops (a ``Loop`` whose trip count comes from the input included) instead of being abandoned
on a thread. Arming costs a dict insert. The watchdog sleeps until the earliest deadline it knows of
(with the same time limit for every call, that is the oldest run's), so under load it wakes about once
per time limit instead of ticking; an arm takes its lock and wakes it only when the new deadline comes
before the one it sleeps towards (or it is working out that deadline right now).
"""

import itertools
import math
import threading
import time
from typing import Any

# How late past a deadline the watchdog may wake: a timer's own slack, and a floor for its waits.
SLACK_SECONDS = 0.005


class Watchdog:
    def __init__(self) -> None:
        self._armed: dict[int, tuple[float, Any]] = {}
        self._ids = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        # The deadline the watchdog sleeps towards; infinity while it idles or is choosing the next one.
        self._wake_at = math.inf

    def arm(self, timeout: float, run_options: Any) -> int:
        """Set ``run_options.terminate`` once ``timeout`` seconds have passed, unless disarmed first."""
        ticket = next(self._ids)
        deadline = time.monotonic() + timeout
        self._armed[ticket] = (deadline, run_options)  # atomic under the GIL
        # Read after the insert: a watchdog choosing its next wake-up either saw the entry or shows infinity.
        if deadline < self._wake_at:
            with self._wake:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._watch, name="modelkit-deadline", daemon=True)
                    self._thread.start()
                self._wake.notify()
        return ticket

    def disarm(self, ticket: int) -> None:
        self._armed.pop(ticket, None)  # atomic under the GIL; the watchdog tolerates a missing entry

    def _watch(self) -> None:
        with self._wake:
            while True:
                self._wake_at = math.inf  # set before the snapshot: an arm meanwhile wakes the next wait
                now = time.monotonic()
                upcoming = math.inf
                for ticket, (deadline, options) in list(self._armed.items()):
                    if deadline <= now:
                        if self._armed.pop(ticket, None) is not None:
                            options.terminate = True
                    else:
                        upcoming = min(upcoming, deadline)
                self._wake_at = upcoming
                self._wake.wait(None if upcoming == math.inf else max(SLACK_SECONDS, upcoming - now))


watchdog = Watchdog()
