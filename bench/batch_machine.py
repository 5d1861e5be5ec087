"""How busy the machine is with work that is not the bench's, for `bench/batch.py`.

On a shared two-core machine another process's CPU is CPU the reference or the workers did not get,
and two workers cannot beat one when the second core is taken. So each run waits (a while) for the
machine to be quiet, and reports the cores other processes used during it.
"""

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU time every process on the machine has used (user, nice, system, irq, softirq, steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def _process_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / TICK  # self and children


class Meter:
    """Cores used by other processes between start() and stop(), given the pids that are ours."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = [os.getpid(), *pids]

    def start(self) -> "Meter":
        self.wall, self.busy = time.monotonic(), _busy_seconds()
        self.ours = sum(_process_seconds(pid) for pid in self.pids)
        return self

    def stop(self) -> float:
        wall = time.monotonic() - self.wall
        ours = sum(_process_seconds(pid) for pid in self.pids) - self.ours
        return max(0.0, (_busy_seconds() - self.busy - ours) / wall) if wall > 0 else 0.0


def wait_quiet(pids: list[int], limit: float = 0.25, timeout: float = 30.0) -> float:
    """Wait until other processes use under ``limit`` cores over a second; returns the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        meter = Meter(pids).start()
        time.sleep(1.0)
        others = meter.stop()
        if others < limit or time.monotonic() > deadline:
            return others
