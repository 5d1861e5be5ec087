"""The rollout routes: create, list with filters, detail with events, actions; outsiders 404, viewers read only."""

import re

import pytest
from django.urls import URLResolver, get_resolver

from registry.models import AuditEvent, ModelAlias
from rollouts.api.views import ACTIONS
from rollouts.models import Rollout

BASE = "/api/v1/models/iris/rollouts"
BODY = {"alias": "production", "version": 2, "strategy": "canary", "steps": [5, 50, 100], "step_seconds": 30,
        "guards": {"max_error_rate": 0.02, "min_requests": 50}}


def _walk(patterns: list, prefix: str = "") -> list[str]:
    """Every route from the resolver (rollouts sits above config, so config.tests.urlwalk is out of reach)."""
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        found += _walk(pattern.url_patterns, route) if isinstance(pattern, URLResolver) else [route]
    return found


def fill(route: str, values: dict[str, str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)


ROUTES = [r for r in _walk(get_resolver().url_patterns)
          if r.startswith("api/v1/") and ("rollouts" in r or r.endswith("timeline"))]


def test_a_maintainer_starts_a_rollout(as_user, maintainer, candidate):
    response = as_user(maintainer).post(BASE, BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stable"], body["candidate"], body["status"], body["weight"]) == (1, 2, "running", 0)
    assert body["events"][0]["kind"] == "started" and body["events"][0]["actor"] == maintainer.username


@pytest.mark.parametrize(("change", "field"), [
    ({"strategy": "yolo"}, "strategy"), ({"steps": [5, 5, 100]}, "steps"), ({"step_seconds": "soon"}, "step_seconds"),
    ({"guards": {"max_p95_ms": "fast"}}, "guards.max_p95_ms"), ({"alias": "nope"}, "alias"),
    ({"version": 99}, "version"), ({"version": "two"}, "version")])
def test_bad_input_is_an_envelope_naming_the_field(as_user, maintainer, candidate, change, field):
    response = as_user(maintainer).post(BASE, {**BODY, **change}, format="json")
    assert 400 <= response.status_code < 500 and response.json()["error"]["field"] == field
    assert not Rollout.objects.exists() and not AuditEvent.objects.filter(action="rollout.start").exists()


def test_list_filters_and_detail(as_user, maintainer, viewer, candidate):
    created = as_user(maintainer).post(BASE, BODY, format="json").json()
    reader = as_user(viewer)
    assert [r["id"] for r in reader.get("/api/v1/rollouts?model=iris&status=running").json()["results"]] == \
        [created["id"]]
    assert reader.get("/api/v1/rollouts?status=completed").json()["results"] == []
    assert reader.get(f"{BASE}?alias=staging").json()["results"] == []
    detail = reader.get(f"{BASE}/{created['id']}").json()
    assert detail["events"][0]["evidence"]["steps"] == [5, 50, 100]


def test_actions_through_the_api(as_user, maintainer, candidate):
    client = as_user(maintainer)
    rollout = client.post(BASE, BODY, format="json").json()["id"]
    assert client.post(f"{BASE}/{rollout}/pause", {"reason": "look"}, format="json").json()["status"] == "paused"
    assert client.post(f"{BASE}/{rollout}/resume", {}, format="json").json()["status"] == "running"
    assert client.post(f"{BASE}/{rollout}/promote", {}, format="json").json()["status"] == "completed"
    again = client.post(f"{BASE}/{rollout}/abort", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["field"] == "status"
    assert ModelAlias.objects.get(name="production").version_id == candidate.id


@pytest.fixture
def running(as_user, maintainer, candidate) -> int:
    return as_user(maintainer).post(BASE, BODY, format="json").json()["id"]


def state() -> tuple:
    return (list(Rollout.objects.values_list("id", "status", "weight")), AuditEvent.objects.count(),
            list(ModelAlias.objects.values_list("version_id", "candidate_version_id", "candidate_weight")))


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("route", ROUTES)
def test_an_outsider_gets_404_and_changes_nothing(as_user, outsider, running, route, method):
    before = state()
    response = getattr(as_user(outsider), method)(fill(route, {"name": "iris", "rollout_id": str(running)}),
                                                  BODY, format="json")
    if route == "api/v1/rollouts" and method == "get":
        assert response.status_code == 200 and response.json()["results"] == []
    else:
        assert response.status_code in (404, 405), (route, method, response.status_code)
    assert state() == before


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("route", ROUTES)
def test_a_viewer_reads_but_cannot_write(as_user, viewer, running, route, method):
    client, url = as_user(viewer), fill(route, {"name": "iris", "rollout_id": str(running)})
    before = state()
    assert client.get(url).status_code == (405 if url.endswith(tuple(ACTIONS)) else 200)
    assert getattr(client, method)(url, BODY, format="json").status_code in (403, 405)
    assert state() == before
