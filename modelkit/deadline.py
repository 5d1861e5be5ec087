"""Stop model runs at their deadline: one watchdog thread per process, armed per call.

onnxruntime checks ``RunOptions.terminate`` between kernels, so a run that passes its deadline
really stops (a ``Loop`` whose trip count comes from the input included) instead of being abandoned
on a thread. Arming costs a dict insert; the watchdog ticks only while runs are armed.
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

    def arm(self, timeout: float, run_options: Any) -> int:
        """Set ``run_options.terminate`` once ``timeout`` seconds have passed, unless disarmed first."""
        ticket = next(self._ids)
        with self._wake:
            self._armed[ticket] = (time.monotonic() + timeout, run_options)
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
                while not self._armed:
                    self._wake.wait()
            now = time.monotonic()
            for ticket, (deadline, options) in list(self._armed.items()):
                if deadline <= now and self._armed.pop(ticket, None) is not None:
                    options.terminate = True
            time.sleep(TICK_SECONDS)


watchdog = Watchdog()
