"""Generated from the URL resolver, like the API's matrix: every console route and method, for an outsider
(404, nothing changes), a viewer (reads, never writes: 403) and an anonymous caller (to the sign-in page).
A console route added later is covered without being listed here."""

from typing import Any

import pytest
from django.test import Client

from config.tests.test_authorization_matrix import BATCH_JOB, state, world  # noqa: F401  (world: a fixture)
from config.tests.urlwalk import all_routes, fill
from conftest import stored_files
from registry import services
from registry.models import Role, ServiceToken
from registry.services.service_tokens import service_token_create
from rollouts import services as rollouts

CONSOLE = [r for r in all_routes() if r.startswith("console/") and r not in ("console/login", "console/logout")]
# Pages listing only what the caller may see; the try-it token is the caller's own.
OWN_SCOPE = {"console/", "console/promotions", "console/rollouts", "console/batch", "console/batch/rows",
             "console/audit", "console/teams", "console/session-token"}
BODIES: dict[str, dict[str, str]] = {
    "console/models/new": {"team": "acme", "name": "stolen"},
    "console/batch": {"model": "iris", "target": "alias", "alias": "production", "output_format": "csv"},
    "console/teams/<slug:slug>/tokens": {"name": "ci", "role": "viewer"},
    "console/models/<str:name>/aliases": {"alias": "staging", "version": "1"},
    "console/models/<str:name>/protection": {"protected": ""},
}
PAGES = {"console/models/<str:name>", "console/models/<str:name>/versions/<int:number>",
         "console/models/<str:name>/versions/<int:number>/status",
         "console/models/<str:name>/rollouts/<int:rollout_id>",
         "console/models/<str:name>/rollouts/<int:rollout_id>/events", "console/promotions/<int:pk>",
         "console/models/<str:name>/rollouts/<int:rollout_id>/series",
         "console/models/<str:name>/versions/<int:number>/download", "console/models/<str:name>/compare"}
# Predictors may submit and cancel batch jobs (they are predictions); viewers may not.
READ_ONLY_SKIP = {("post", "console/session-token")}


@pytest.fixture
def values(world, owner, ready_iris):  # noqa: F811
    services.alias_set(actor=owner, model=ready_iris.model, name="staging", version=ready_iris)
    rollout = rollouts.rollout_create(actor=owner, model=ready_iris.model, alias="staging", version=2,
                                      strategy="canary", steps=[50, 100], step_seconds=60, allow_breaking=False)
    token, _ = service_token_create(actor=owner, team=ready_iris.model.team, role=Role.VIEWER, name="ci-read")
    from config.tests.test_authorization_matrix import VALUES

    return {**VALUES, "rollout_id": str(rollout.pk), "token_id": str(token.pk), "action": "pause",
            "decision": "approve", "which": "output", "job_id": BATCH_JOB}


def snapshot() -> tuple:
    return (*state(), list(ServiceToken.objects.values_list("id", "revoked_at").order_by("id")))


def call(user: Any, method: str, route: str, values: dict[str, str]) -> Any:
    client = Client()
    client.force_login(user)
    return getattr(client, method)(fill(route, values), BODIES.get(route, {}))


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", CONSOLE)
def test_an_outsider_sees_nothing_and_changes_nothing(outsider, values, artifact_root, route, method):
    before, files = snapshot(), stored_files(artifact_root)
    response = call(outsider, method, route, values)
    if route in OWN_SCOPE:
        assert response.status_code in (200, 302, 404, 405), (method, route, response.status_code)
        assert b"iris" not in response.content and b"acme" not in response.content, (method, route)
    else:
        assert response.status_code in (404, 405), (method, route, response.status_code, response.content[:300])
    if route != "console/session-token":
        assert snapshot() == before
    assert stored_files(artifact_root) == files


@pytest.mark.parametrize("route", CONSOLE)
def test_a_viewer_reads_but_cannot_write(viewer, values, artifact_root, route):
    if route in OWN_SCOPE:
        pytest.skip("lists only the viewer's own scope")
    before, files = snapshot(), stored_files(artifact_root)
    response = call(viewer, "post", route, values)
    assert response.status_code in (403, 405), (route, response.status_code, response.content[:300])
    assert snapshot() == before
    assert stored_files(artifact_root) == files


@pytest.mark.parametrize("route", CONSOLE)
def test_an_anonymous_caller_is_sent_to_sign_in(values, route):
    for method in ("get", "post"):
        response = getattr(Client(), method)(fill(route, values))
        assert response.status_code == 302, (method, route, response.status_code)
        assert response["Location"].startswith("/console/login")


@pytest.mark.parametrize("route", sorted(PAGES))
def test_a_viewer_reads_every_page_of_the_team(viewer, values, route):
    query = {"a": "1", "b": "1"} if route.endswith("compare") else {}
    response = Client()
    response.force_login(viewer)
    answer = response.get(fill(route, values), query)
    assert answer.status_code == 200, (route, answer.status_code)


def test_a_viewer_cannot_submit_a_batch_job(viewer, values):
    before = snapshot()
    assert call(viewer, "post", "console/batch", values).status_code == 403
    assert snapshot() == before


def test_every_console_write_needs_the_csrf_token(maintainer, values):
    client = Client(enforce_csrf_checks=True)
    client.force_login(maintainer)
    before = snapshot()
    for route in CONSOLE:
        response = client.post(fill(route, values), BODIES.get(route, {}))
        assert response.status_code in (403, 405), (route, response.status_code)
    assert snapshot() == before


def test_a_requester_demoted_to_viewer_can_no_longer_withdraw(maintainer, owner, ready_iris, iris_onnx):
    from conftest import make_version
    from registry.models import Membership, PromotionRequest

    second = make_version(ready_iris.model, owner, iris_onnx[0])
    promotion = services.promotion_request(actor=maintainer, model=ready_iris.model, alias="production",
                                           version=second, reason="mine")
    Membership.objects.filter(user=maintainer).update(role=Role.VIEWER)
    client = Client()
    client.force_login(maintainer)
    assert client.post(f"/console/promotions/{promotion.pk}/cancel").status_code == 403
    assert PromotionRequest.objects.get(pk=promotion.pk).status == "open"
