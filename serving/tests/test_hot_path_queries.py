import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_version
from registry import services

# The whole predict suite runs with HS256, RS256 and ES256 tokens (serving/tests/conftest.py).
pytestmark = pytest.mark.usefixtures("jwt_algorithm")

ALIAS = "/api/v1/models/iris/aliases/production/predict"


def test_a_steady_state_prediction_makes_no_sql_query(as_user, teammate, ready_iris, iris_rows):
    client = as_user(teammate)
    assert client.post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 200  # fills the caches
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 200
    assert queries.captured_queries == []


def test_v2_and_mlflow_paths_make_no_query_either(as_user, teammate, ready_iris):
    client = as_user(teammate)
    v2 = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}
    mlflow = {"instances": [[5.1, 3.5, 1.4, 0.2]]}
    client.post("/v2/models/iris/infer", v2, format="json")
    client.post("/api/v1/models/iris/aliases/production/invocations", mlflow, format="json")
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/v2/models/iris/infer", v2, format="json").status_code == 200
        assert client.post("/api/v1/models/iris/aliases/production/invocations", mlflow,
                           format="json").status_code == 200
    assert queries.captured_queries == []


def test_unknown_model_names_are_cached_too(as_user, teammate, ready_iris, iris_rows):
    client = as_user(teammate)
    client.post("/api/v1/models/nope/aliases/production/predict", {"inputs": iris_rows}, format="json")
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/models/nope/aliases/production/predict", {"inputs": iris_rows},
                               format="json")
    assert response.status_code == 404 and queries.captured_queries == []


def test_a_moved_alias_is_seen_by_the_next_request(as_user, teammate, owner, model, ready_iris, iris_onnx,
                                                   iris_rows):
    client = as_user(teammate)
    assert client.post(ALIAS, {"inputs": iris_rows}, format="json").json()["version"] == 1
    second = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="production", version=second)
    assert client.post(ALIAS, {"inputs": iris_rows}, format="json").json()["version"] == 2


def test_a_removed_member_loses_access_at_once(as_user, teammate, owner, team, ready_iris, iris_rows):
    client = as_user(teammate)
    assert client.post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 200
    services.membership_remove(actor=owner, team=team, username=teammate.username)
    assert client.post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 404


def test_a_deactivated_user_is_refused_at_once(as_user, teammate, ready_iris, iris_rows):
    client = as_user(teammate)
    assert client.post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 200
    teammate.is_active = False
    teammate.save()
    response = client.post(ALIAS, {"inputs": iris_rows}, format="json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_an_invalid_model_name_costs_no_query_and_no_entry(as_user, teammate, ready_iris, django_assert_num_queries):
    from serving.routing import routes

    client = as_user(teammate)
    client.post("/api/v1/models/iris/aliases/production/predict", {"inputs": [[1, 2, 3, 4]]}, format="json")
    with django_assert_num_queries(0):
        response = client.post("/api/v1/models/" + "X" * 300 + "/aliases/production/predict",
                               {"inputs": [[1, 2, 3, 4]]}, format="json")
    assert response.status_code == 404 and "X" * 300 not in routes._data


def test_no_query_either_with_a_rollout_running(as_user, teammate, owner, model, ready_iris, iris_onnx, iris_rows,
                                                settings):
    from registry.services.traffic import traffic_split_set
    from serving.routing import bucket, route_for
    from serving.runtime_cache import runtimes

    # The caller's 1 s reload backstop is a separate, documented cost: keep it out of a slow machine's way.
    settings.MODELYARD_CALLER_CACHE_SECONDS = 60
    candidate = make_version(model, owner, iris_onnx[0])
    traffic_split_set(actor=owner, model=model, alias="production", candidate=candidate, weight=50)
    runtimes.get(route_for("iris").versions[candidate.version].ref)
    client = as_user(teammate)
    keys = [f"caller-{i}" for i in range(50)]
    keys = [next(k for k in keys if bucket("iris", "production", k) < 50),
            next(k for k in keys if bucket("iris", "production", k) >= 50)]  # one caller on each version
    for key in keys:  # fills the caches, both versions
        client.post(ALIAS, {"inputs": iris_rows}, format="json", HTTP_MODELYARD_ROUTING_KEY=key)
    # Steady state means no invalidation meanwhile; pub/sub channels span every Redis db, so a concurrent
    # run's messages can land here: measure again when one did.
    from core import bus

    messages: list[str] = []
    bus.subscribe(messages.append)
    try:
        for _ in range(5):
            messages.clear()
            with CaptureQueriesContext(connection) as queries:
                answered = {client.post(ALIAS, {"inputs": iris_rows}, format="json",
                                        HTTP_MODELYARD_ROUTING_KEY=key).json()["version"] for key in keys * 2}
            if not messages:
                break
    finally:
        bus._handlers.remove(messages.append)
    assert not messages and answered == {1, 2} and queries.captured_queries == []
