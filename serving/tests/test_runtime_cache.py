"""The per-process predictor cache: one load per version under concurrent first requests, LRU under
a memory budget, keyed by (version, sha256)."""

import threading

from conftest import make_version
from registry import services
from serving.routing import version_ref
from serving.runtime_cache import RuntimeCache


def ref_of(version):  # type: ignore[no-untyped-def]
    return version_ref(vars(version))


def counting(cache: RuntimeCache) -> list[int]:
    """Record real loads (the cache's own loader still runs)."""
    loads: list[int] = []
    real = cache._load

    def load(ref):  # type: ignore[no-untyped-def]
        loads.append(ref.id)
        return real(ref)

    cache._load = load  # type: ignore[method-assign]
    return loads


def test_concurrent_first_requests_load_a_version_once(ready_iris):
    cache = RuntimeCache(budget_bytes=10**9)
    loads = counting(cache)
    barrier = threading.Barrier(8)
    runtimes = []

    def first_request() -> None:
        barrier.wait()
        runtimes.append(cache.get(ref_of(ready_iris)))

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [ready_iris.id]
    assert len({id(runtime) for runtime in runtimes}) == 1


def test_the_least_recently_used_version_is_evicted_past_the_budget(model, owner, iris_onnx):
    first, second, third = (make_version(model, owner, iris_onnx[0]) for _ in range(3))
    cache = RuntimeCache(budget_bytes=2 * len(iris_onnx[0]))
    cache.get(ref_of(first))
    cache.get(ref_of(second))
    cache.get(ref_of(first))  # first is now the most recently used
    cache.get(ref_of(third))
    assert [key[0] for key in cache.loaded()] == [first.id, third.id]


def test_a_loaded_version_is_served_from_memory(ready_iris):
    cache = RuntimeCache(budget_bytes=10**9)
    loads = counting(cache)
    cache.get(ref_of(ready_iris))
    cache.get(ref_of(ready_iris))
    assert loads == [ready_iris.id]


def test_warm_up_stops_at_the_cache_budget(ready_iris, model, owner, iris_onnx, settings, monkeypatch):
    from serving import warmup
    from serving.runtime_cache import runtimes

    second = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="staging", version=second)
    monkeypatch.setattr(runtimes, "budget_bytes", 1)  # the first load fills it
    warmup.reset()
    warmup._warm()
    assert warmup.state["status"] == "ready" and warmup.state["loaded"] == 1
    assert len(runtimes.loaded()) == 1
