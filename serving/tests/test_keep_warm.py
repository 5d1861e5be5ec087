"""A web worker keeps its routes built and its rollout candidates loaded without a request for them: a rollout waits
for every live worker to report the candidate loaded, and a worker whose caches were just cleared (a Redis
restart) or that serves other models must not hold it up (seen in the fault drills)."""

import time

import pytest

from conftest import make_version
from registry.services.traffic import traffic_split_set
from serving import reporting, routing
from serving.runtime_cache import runtimes

pytestmark = pytest.mark.django_db(transaction=True)


def wait_loaded(ref, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runtimes.is_loaded(ref):
            return True
        time.sleep(0.05)
    return False


def test_candidates_are_loaded_without_traffic(ready_iris, owner, iris_onnx):
    model = ready_iris.model
    candidate = make_version(model, owner, iris_onnx[0])
    bystander = make_version(model, owner, iris_onnx[0])
    traffic_split_set(actor=owner, model=model, alias="production", candidate=candidate, weight=0)
    runtimes.clear()
    reporting.keep_warm()
    (_, ref), = routing.aliased_refs(prefixes=("candidate_version",))
    assert ref.id == candidate.id
    assert wait_loaded(ref)
    assert {version_id for version_id, _ in runtimes.loaded()} == {candidate.id}  # not stable, not v3
    assert bystander.id not in {version_id for version_id, _ in runtimes.loaded()}


def test_dropped_routes_are_rebuilt_without_traffic(ready_iris, django_assert_num_queries):
    routing.routes.get_or_load("iris", lambda: None)  # something cached under the name...
    routing.routes._invalidate("route:iris")  # ...then dropped, as a change does
    assert routing.routes._data.get("iris") is None
    reporting.keep_warm()
    assert routing.routes._data["iris"][1].name == "iris"
    with django_assert_num_queries(0):
        routing.route_for("iris")  # a caller's request now finds it built
