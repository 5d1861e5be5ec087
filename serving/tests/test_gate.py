"""The admission gate: a bounded counting semaphore, with real threads."""

import threading
import time

import pytest

from serving.gate import Gate


def test_it_admits_up_to_its_limit_and_refuses_past_it_without_blocking() -> None:
    gate = Gate(2)
    assert gate.acquire(blocking=False) and gate.acquire(blocking=False)
    assert not gate.acquire(blocking=False)
    started = time.monotonic()
    assert not gate.acquire(timeout=0.05)
    assert time.monotonic() - started >= 0.05
    gate.release()
    assert gate.acquire(blocking=False)
    assert gate.taken == 2


def test_a_release_wakes_a_waiting_thread() -> None:
    gate, got = Gate(1), []
    gate.acquire()
    waiter = threading.Thread(target=lambda: got.append(gate.acquire(timeout=5)))
    waiter.start()
    time.sleep(0.05)
    assert got == []  # still waiting
    gate.release()
    waiter.join(5)
    assert got == [True] and gate.taken == 1


def test_releasing_more_than_was_taken_is_an_error() -> None:
    gate = Gate(1)
    with pytest.raises(ValueError):
        gate.release()


def test_many_threads_never_hold_more_than_the_limit() -> None:
    gate, lock, inside, most, refused = Gate(3), threading.Lock(), [0], [0], []

    def work() -> None:
        for _ in range(100):
            if not gate.acquire(timeout=5):
                refused.append(1)  # an assert here would fail only this thread, not the test
                continue
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.0005)  # hold the gate while the others try: they must wait, not get in
            with lock:
                inside[0] -= 1
            gate.release()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not refused and gate.taken == 0
    assert most[0] == 3  # the limit was reached, and never passed
