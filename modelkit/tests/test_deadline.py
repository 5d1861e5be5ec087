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


def test_a_short_deadline_armed_while_the_watchdog_sleeps_towards_a_long_one_is_kept():
    watchdog = Watchdog()
    slow, fast = Run(), Run()
    watchdog.arm(60.0, slow)  # the watchdog now sleeps towards a minute from now
    time.sleep(0.05)
    started = time.monotonic()
    watchdog.arm(0.05, fast)
    assert stopped_within(fast, 2.0) and time.monotonic() - started < 1.0
    assert not slow.terminate


def test_under_steady_load_the_watchdog_does_not_tick():
    watchdog, wakes = Watchdog(), []
    original = watchdog._wake.wait

    def counted(timeout: float | None = None) -> bool:
        wakes.append(timeout)
        return original(timeout)

    watchdog._wake.wait = counted  # type: ignore[method-assign]
    for _ in range(200):  # calls that end well inside their time limit, one after another
        ticket = watchdog.arm(30.0, Run())
        time.sleep(0.001)
        watchdog.disarm(ticket)
    assert len(wakes) < 5  # a ticking watchdog (every 10 ms) would have woken about 20 times
