"""The deadline watchdog: every armed run is stopped at its deadline, also when it was armed just as
the watchdog went to sleep (it is woken only from idle, not on every call)."""

import threading
import time

from modelkit.deadline import Watchdog


class Run:
    terminate = False


def stopped_within(run: Run, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not run.terminate and time.monotonic() < deadline:
        time.sleep(0.001)
    return run.terminate


def test_each_run_armed_after_the_watchdog_idles_is_stopped():
    watchdog = Watchdog()
    for _ in range(200):  # each arm meets a watchdog going to, or already in, its idle wait
        run = Run()
        watchdog.arm(0.0, run)
        assert stopped_within(run, 2.0)


def test_runs_armed_from_many_threads_are_stopped_and_disarmed_ones_are_not():
    watchdog = Watchdog()
    stopped, spared = [Run() for _ in range(100)], [Run() for _ in range(100)]

    def arm(runs: list[Run], timeout: float, disarm: bool) -> None:
        for run in runs:
            ticket = watchdog.arm(timeout, run)
            if disarm:
                watchdog.disarm(ticket)

    threads = [threading.Thread(target=arm, args=(stopped[i::4], 0.02, False)) for i in range(4)]
    threads += [threading.Thread(target=arm, args=(spared[i::4], 0.02, True)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(stopped_within(run, 2.0) for run in stopped)
    time.sleep(0.1)
    assert not any(run.terminate for run in spared)
