"""The per-process caches the hot path reads, and how changes reach them."""

import threading

from core import bus


def test_an_invalidation_during_a_load_keeps_the_loaded_value_out_of_the_cache():
    cache = bus.LocalCache("test-race", max_entries=10)
    started, release = threading.Event(), threading.Event()

    def slow_loader() -> str:
        started.set()
        release.wait(5)
        return "stale"

    result = []
    loader = threading.Thread(target=lambda: result.append(cache.get_or_load("k", slow_loader)))
    loader.start()
    started.wait(5)
    bus._dispatch("test-race:k")  # the change lands while the old value is being read
    release.set()
    loader.join()
    assert result == ["stale"]  # this caller gets what it read...
    assert cache.get_or_load("k", lambda: "fresh") == "fresh"  # ...but nobody after it


def test_messages_drop_only_their_own_keys_and_star_drops_all():
    cache = bus.LocalCache("test-keys", max_entries=10)
    cache.get_or_load("a", lambda: 1)
    cache.get_or_load("b", lambda: 2)
    bus._dispatch("test-keys:a")
    assert cache.get_or_load("a", lambda: 10) == 10 and cache.get_or_load("b", lambda: 20) == 2
    bus._dispatch("*")
    assert cache.get_or_load("b", lambda: 30) == 30


def test_the_cache_is_bounded():
    cache = bus.LocalCache("test-bound", max_entries=3)
    for key in "abcd":
        cache.get_or_load(key, lambda key=key: key)
    assert cache.get_or_load("a", lambda: "reloaded") == "reloaded"  # the oldest went first
    assert cache.get_or_load("d", lambda: "reloaded") == "d"


def test_an_invalid_model_name_costs_no_query_and_no_entry(as_user, teammate, ready_iris, django_assert_num_queries):
    from serving.routing import routes

    client = as_user(teammate)
    client.post("/api/v1/models/iris/aliases/production/predict", {"inputs": [[1, 2, 3, 4]]}, format="json")
    with django_assert_num_queries(0):
        response = client.post("/api/v1/models/" + "X" * 300 + "/aliases/production/predict",
                               {"inputs": [[1, 2, 3, 4]]}, format="json")
    assert response.status_code == 404 and "X" * 300 not in routes._data
