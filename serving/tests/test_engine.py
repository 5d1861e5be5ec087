import pickle
import threading
import time

import pytest
from django.contrib.auth.models import Permission

from conftest import make_version
from registry import services
from serving.tests.slow_model import SlowRegressor

PREDICT = "/api/v1/models/iris/aliases/production/predict"


@pytest.fixture
def slow_model(model, owner, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    owner.user_permissions.add(Permission.objects.get(codename="publish_pickle"))
    owner = type(owner).objects.get(pk=owner.pk)
    estimator = SlowRegressor(delay=0).fit([[0.0, 0.0]], [0.0])
    version = make_version(model, owner, pickle.dumps(estimator))
    assert version.status == "ready" and version.serving_format == "pickle", version.serving_note
    services.alias_set(actor=owner, model=model, name="production", version=version)
    return version


def slow_down(seconds: float) -> None:
    from serving.runtime_cache import runtimes

    for runtime in runtimes._entries.values():
        runtime.estimator.delay = seconds


def test_past_the_in_flight_limit_callers_get_503_with_retry_after(as_user, teammate, slow_model, settings):
    settings.MODELYARD_MAX_IN_FLIGHT, settings.MODELYARD_QUEUE_WAIT_SECONDS = 1, 0.05
    client = as_user(teammate)
    assert client.post(PREDICT, {"inputs": [[1, 2]]}, format="json").status_code == 200  # warm
    slow_down(1.0)
    other = as_user(teammate)  # minting a token writes a row: do it here, not in the thread
    busy = threading.Thread(target=lambda: other.post(PREDICT, {"inputs": [[1, 2]]}, format="json"))
    busy.start()
    try:
        time.sleep(0.2)
        response = client.post(PREDICT, {"inputs": [[1, 2]]}, format="json")
    finally:
        busy.join()
    assert response.status_code == 503
    assert response["Retry-After"] == "1" and response.json()["error"]["code"] == "overloaded"


def test_a_model_that_cannot_be_stopped_is_504_and_keeps_its_pool_share(as_user, teammate, slow_model, settings):
    settings.MODELYARD_PREDICT_TIMEOUT_SECONDS, settings.MODELYARD_QUEUE_WAIT_SECONDS = 0.1, 0.01
    settings.MODELYARD_MODEL_THREADS, settings.MODELYARD_MODEL_THREAD_SHARE = 2, 0.5  # one pool thread per model
    client = as_user(teammate)
    client.post(PREDICT, {"inputs": [[1, 2]]}, format="json")
    slow_down(0.6)
    timed_out = client.post(PREDICT, {"inputs": [[1, 2]]}, format="json")
    assert timed_out.status_code == 504 and timed_out.json()["error"]["code"] == "model_timeout"
    # The abandoned call still runs on the pool, so the model's one pool thread is still taken.
    assert client.post(PREDICT, {"inputs": [[1, 2]]}, format="json").status_code == 503


def metric(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    from serving import metrics

    metrics.flush()  # what this process tallied, as a scrape of it would
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_response_cache_answers_repeated_inputs_and_counts_hits(as_user, teammate, maintainer, ready_iris,
                                                                    iris_rows):
    assert as_user(maintainer).patch("/api/v1/models/iris", {"response_cache_seconds": 60},
                                     format="json").status_code == 200
    client = as_user(teammate)
    hits = metric("modelyard_response_cache_total", model="iris", result="hit")
    misses = metric("modelyard_response_cache_total", model="iris", result="miss")
    first = client.post(PREDICT, {"inputs": iris_rows}, format="json").json()
    second = client.post(PREDICT, {"inputs": iris_rows}, format="json").json()
    client.post(PREDICT, {"inputs": iris_rows[:1]}, format="json")
    assert first == second
    assert metric("modelyard_response_cache_total", model="iris", result="hit") == hits + 1
    assert metric("modelyard_response_cache_total", model="iris", result="miss") == misses + 2


def test_a_moved_alias_never_answers_from_the_old_versions_cache(as_user, teammate, owner, maintainer, model,
                                                                 ready_iris, iris_onnx, iris_rows):
    as_user(maintainer).patch("/api/v1/models/iris", {"response_cache_seconds": 60}, format="json")
    client = as_user(teammate)
    assert client.post(PREDICT, {"inputs": iris_rows}, format="json").json()["version"] == 1
    second = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="production", version=second)
    hits = metric("modelyard_response_cache_total", model="iris", result="hit")
    misses = metric("modelyard_response_cache_total", model="iris", result="miss")
    assert client.post(PREDICT, {"inputs": iris_rows}, format="json").json()["version"] == 2
    # Same input, new version: a miss, never the old version's entry.
    assert metric("modelyard_response_cache_total", model="iris", result="hit") == hits
    assert metric("modelyard_response_cache_total", model="iris", result="miss") == misses + 1


def test_predictions_are_counted_and_timed(as_user, teammate, ready_iris, iris_rows):
    before = metric("modelyard_predictions_total", model="iris", version="1", protocol="native")
    as_user(teammate).post(PREDICT, {"inputs": iris_rows}, format="json")
    assert metric("modelyard_predictions_total", model="iris", version="1", protocol="native") == before + 1
    assert metric("modelyard_prediction_seconds_count", model="iris", version="1") >= 1


def test_every_call_runs_under_the_time_limit_one_row_included(as_user, teammate, slow_model, settings):
    settings.MODELYARD_PREDICT_TIMEOUT_SECONDS = 0.1
    client = as_user(teammate)
    client.post(PREDICT, {"inputs": [[1, 2]]}, format="json")
    slow_down(0.3)
    started = time.monotonic()
    assert client.post(PREDICT, {"inputs": [[1, 2]]}, format="json").status_code == 504
    assert time.monotonic() - started < 0.25


def test_a_fast_model_past_its_thread_share_queues_instead_of_failing(as_user, teammate, ready_iris, iris_rows,
                                                                       settings):
    settings.MODELYARD_REQUEST_THREADS, settings.MODELYARD_MODEL_THREAD_SHARE = 2, 0.5  # one thread per model
    clients = [as_user(teammate) for _ in range(6)]
    # Warm the caller, route and runtime caches here: the threads' own connections see no test rows.
    assert clients[0].post(PREDICT, {"inputs": iris_rows}, format="json").status_code == 200
    statuses: list[int] = []

    def call(client) -> None:
        for _ in range(10):
            statuses.append(client.post(PREDICT, {"inputs": iris_rows}, format="json").status_code)

    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 60  # saturating load by a fast model waits a moment, never 503
