"""Generated from the URL resolver: for every API route and method, an outsider gets 404 and
changes nothing, and a viewer (or a predictor) cannot write. New routes are covered automatically:
a route missing from BODIES still gets tried with an empty body.
"""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batch.models import BatchInput, BatchJob
from batch.tests.factories import BatchJobFactory
from config.tests.urlwalk import PUBLIC, all_routes, fill
from conftest import make_version, stored_files
from registry import services
from registry.models import (
    AuditEvent,
    Membership,
    ModelAlias,
    ModelVersion,
    PromotionRequest,
    RegisteredModel,
    ServiceToken,
    Team,
)
from registry.services.service_tokens import service_token_create

VALUES = {"name": "iris", "number": "1", "version": "1", "alias": "production", "slug": "acme",
          "username": "vera-viewer", "label": "production"}
ROW = [[5.1, 3.5, 1.4, 0.2]]
V2 = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": ROW}]}
# A batch job of team acme (created by the world below) for the batch routes' job_id.
BATCH_JOB = "00000000-0000-4000-8000-00000000b47c"
VALUES["job_id"] = BATCH_JOB
BODIES: dict[str, Any] = {
    "api/v1/teams": {"slug": "outsiders-own"},
    "api/v1/teams/<slug:slug>/members": {"username": "oscar-outsider", "role": "owner"},
    "api/v1/teams/<slug:slug>/tokens": {"name": "stolen", "role": "owner"},
    "api/v1/models": {"team": "acme", "name": "stolen"},
    "api/v1/models/<str:name>": {"description": "defaced", "response_cache_seconds": 5},
    "api/v1/models/<str:name>/aliases/<str:alias>": {"version": 1},
    "api/v1/batch-jobs": {"model": "iris", "alias": "production", "input_from": BATCH_JOB},
    "api/v1/models/<str:name>/promotions": {"alias": "staging", "version": 1, "reason": "mine"},
    "api/v1/promotions/<int:pk>/approve": {"reason": "looks fine"},
    "api/v1/promotions/<int:pk>/reject": {"reason": "no"},
    "api/v1/models/<str:name>/aliases/<str:alias>/predict": {"inputs": ROW},
    "api/v1/models/<str:name>/versions/<int:number>/predict": {"inputs": ROW},
    "api/v1/models/<str:name>/aliases/<str:alias>/invocations": {"instances": ROW},
    "v2/models/<str:name>/infer": V2,
    "v2/models/<str:name>/versions/<str:version>/infer": V2,
    "v1/models/<str:name>:predict": {"instances": ROW},
    "v1/models/<str:name>/versions/<str:version>:predict": {"inputs": ROW},
    "v1/models/<str:name>/labels/<str:label>:predict": {"instances": ROW},
}
# Lists answer 200 with only what the caller may see; creating your own team is open to anyone.
OWN_SCOPE = {("get", "api/v1/teams"), ("get", "api/v1/models"), ("get", "api/v1/audit"), ("get", "api/v1/promotions"),
             ("get", "api/v1/rollouts"), ("post", "api/v1/teams")}
PREDICT = {r for r in BODIES if r.endswith(("predict", "invocations", "infer"))}
OWN_SCOPE.add(("get", "api/v1/batch-jobs"))
# Batch jobs are predictions too: predictors submit and cancel them, viewers cannot.
BATCH = {"api/v1/batch-jobs", "api/v1/batch-jobs/<uuid:job_id>/cancel"}
WRITES = ["post", "put", "patch", "delete"]
API = [r for r in all_routes() if r.startswith(("api/v1/", "v2/", "v1/")) and r not in PUBLIC]


def state() -> tuple:
    return (
        list(Team.objects.values_list("slug", flat=True).order_by("slug")),
        list(Membership.objects.values_list("team__slug", "user__username", "role").order_by("id")),
        list(RegisteredModel.objects.values_list("name", "description", "response_cache_seconds").order_by("id")),
        list(ModelVersion.objects.values_list("id", "status").order_by("id")),
        list(ModelAlias.objects.values_list("name", "version_id").order_by("id")),
        list(PromotionRequest.objects.values_list("id", "status").order_by("id")),
        list(BatchJob.objects.values_list("uuid", "status").order_by("id")),
        BatchInput.objects.count(),
        list(ServiceToken.objects.values_list("id", "revoked_at").order_by("id")),
        AuditEvent.objects.count(),
    )


def call(client: Any, method: str, route: str) -> Any:
    url = fill(route, VALUES)
    if route == "api/v1/models/<str:name>/versions" and method == "post":
        return client.post(url, {"file": SimpleUploadedFile("m.onnx", b"\x08\x07\x12\x04test")}, format="multipart")
    return getattr(client, method)(url, BODIES.get(route, {}), format="json")


@pytest.fixture
def world(ready_iris, owner, viewer, teammate, outsider, artifact_root, iris_onnx, monkeypatch):
    """Production protected, with an open promotion request to v2 that the promotion routes name."""
    RegisteredModel.objects.filter(pk=ready_iris.model_id).update(protected_aliases=["production"])
    second = make_version(ready_iris.model, owner, iris_onnx[0])
    promotion = services.promotion_request(actor=owner, model=ready_iris.model, alias="production", version=second,
                                           reason="better")
    monkeypatch.setitem(VALUES, "pk", str(promotion.pk))
    BatchJobFactory(uuid=BATCH_JOB, model=ready_iris.model, version=ready_iris, created_by=owner)
    token, _ = service_token_create(actor=owner, team=ready_iris.model.team, role="viewer", name="ci")
    monkeypatch.setitem(VALUES, "token_id", str(token.pk))  # the token routes name a real token of acme
    return {"before": state(), "files": stored_files(artifact_root)}


@pytest.mark.parametrize("method", ["get", *WRITES])
@pytest.mark.parametrize("route", API)
def test_an_outsider_gets_404_and_changes_nothing(as_user, outsider, world, artifact_root, route, method):
    response = call(as_user(outsider), method, route)
    if (method, route) in OWN_SCOPE:
        assert response.status_code in (200, 201)
        assert b"acme" not in response.content and b"iris" not in response.content
        return
    assert response.status_code in (404, 405), (method, route, response.status_code, response.content[:200])
    assert state() == world["before"]
    assert stored_files(artifact_root) == world["files"]


@pytest.mark.parametrize("persona", ["viewer", "teammate"])
@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("route", API)
def test_readers_cannot_write(request, as_user, world, artifact_root, persona, route, method):
    if (method, route) in OWN_SCOPE or (persona == "teammate" and route in PREDICT | BATCH):
        pytest.skip("open to this persona by design")
    response = call(as_user(request.getfixturevalue(persona)), method, route)
    assert response.status_code in (403, 405), (persona, method, route, response.status_code, response.content[:200])
    assert state() == world["before"]
    assert stored_files(artifact_root) == world["files"]


def test_predictors_do_predict(as_user, teammate, world):
    for route in PREDICT:
        assert call(as_user(teammate), "post", route).status_code == 200, route
    assert state() == world["before"]
