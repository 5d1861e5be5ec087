"""How much CPU other work took while a scenario ran, so a busy machine cannot pass for a slow server.

The bench shares its two cores with whatever else runs (a test suite, a build). For each measurement
window this compares the machine's CPU time (/proc/stat) with the CPU time of the processes that work
for the bench: this script's descendants (gunicorn and its workers, wrk), PostgreSQL backends of the
bench database, and Redis. The rest is "foreign" CPU, reported in cores (0.25 = a quarter of one core).
"""

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
# Above this, a window is re-measured (after waiting for quiet): a tenth of a core is already ~5% of two.
NOISY_CORES = 0.10


def _machine_ticks() -> int:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return sum(int(value) for value in fields[1:4])  # user, nice, system: what per-process times also count


def _processes() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command name, user + system ticks)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), name, int(fields[11]) + int(fields[12]))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children_ticks() -> float:
    # Waited-for children (wrk) are gone from /proc by the end of a window; their time is counted here.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * TICKS


@dataclass
class _Snapshot:
    at: float
    machine: int
    processes: dict[int, tuple[int, str, int]]
    children: float


class Meter:
    def __init__(self, database: str) -> None:
        self.database = database
        self._start: _Snapshot | None = None

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(time.monotonic(), _machine_ticks(), _processes(), _children_ticks())

    def _ours(self, pid: int, processes: dict[int, tuple[int, str, int]]) -> bool:
        name = processes[pid][1]
        if name == "redis-server" or (name == "postgres" and f" {self.database} " in _cmdline(pid)):
            return True
        me = os.getpid()
        for _ in range(64):  # walk up the parents: gunicorn workers are this script's grandchildren
            if pid == me:
                return True
            if pid <= 1 or pid not in processes:
                return False
            pid = processes[pid][0]
        return False

    def start(self) -> None:
        self._start = self._snapshot()

    def foreign_cores(self) -> float:
        """Average cores used by other work since start()."""
        assert self._start is not None, "start() first"
        end, start = self._snapshot(), self._start
        ours = end.children - start.children
        for pid, (_, _, ticks) in end.processes.items():
            if self._ours(pid, end.processes):
                ours += ticks - (start.processes[pid][2] if pid in start.processes else 0)
        seconds = end.at - start.at
        return max(0.0, (end.machine - start.machine - ours) / TICKS / seconds) if seconds > 0 else 0.0


class Quiet:
    """Waits for other work to stop, within one time budget for the whole run that also pays for measuring
    busy scenarios again, so a machine that never goes quiet slows the bench by at most that much (its rows
    are then flagged instead)."""

    def __init__(self, database: str, budget_s: float) -> None:
        self.database = database
        self.remaining_s = budget_s

    def spend(self, seconds: float) -> bool:
        """Pays for a measurement to be repeated; False (and nothing paid) once the budget is spent."""
        if self.remaining_s <= 0:
            return False
        self.remaining_s -= seconds
        return True

    def wait(self) -> float:
        """Sample one-second windows until other work uses under NOISY_CORES or the budget is spent;
        returns the last reading, in cores."""
        meter = Meter(self.database)
        told = False
        while True:
            started = time.monotonic()
            meter.start()
            time.sleep(1.0)
            reading = meter.foreign_cores()
            self.remaining_s -= time.monotonic() - started
            if reading < NOISY_CORES or self.remaining_s <= 0:
                return reading
            if not told:
                print(f"    other processes use {reading:.2f} cores: waiting for quiet "
                      f"({max(self.remaining_s, 0):.0f} s of waiting left for this run)", flush=True)
                told = True
