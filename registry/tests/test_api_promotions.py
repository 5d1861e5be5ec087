"""The promotion routes: maintainers ask, another maintainer or owner decides, viewers read, outsiders 404."""

import pytest

from conftest import make_version
from registry import services
from registry.models import ModelAlias, PromotionRequest
from registry.tests.factories import MembershipFactory, RegisteredModelFactory, TeamFactory

MODEL_URL = "/api/v1/models/iris/promotions"
BODY = {"alias": "production", "version": 2, "reason": "better accuracy"}


def url(promotion: PromotionRequest, action: str = "") -> str:
    return f"/api/v1/promotions/{promotion.pk}" + (f"/{action}" if action else "")


def production_version() -> int:
    return ModelAlias.objects.select_related("version").get(name="production").version.version


def test_a_maintainer_asks_and_sees_the_review_diff(as_user, maintainer, candidate):
    response = as_user(maintainer).post(MODEL_URL, BODY, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("model", "team", "alias", "version", "purpose", "status", "requested_by",
                                 "base_version", "current_version", "stale")} == {
        "model": "iris", "team": "acme", "alias": "production", "version": 2, "purpose": "move", "status": "open",
        "requested_by": "mo-maintainer", "base_version": 1, "current_version": 1, "stale": False}
    diff = body["diff"]
    assert diff["metrics"]["accuracy"] == {"current": None, "candidate": 0.97, "delta": None}
    assert diff["signature"] == {"breaking": False, "changes": []}
    assert diff["lineage"]["changed"] == ["git_commit"] and diff["runtime"]["changed"] is False
    assert diff["size_bytes"]["delta"] == 0


@pytest.mark.parametrize("persona", ["viewer", "teammate"])
def test_readers_cannot_ask(request, as_user, candidate, persona):
    response = as_user(request.getfixturevalue(persona)).post(MODEL_URL, BODY, format="json")
    assert response.status_code == 403 and not PromotionRequest.objects.exists()


@pytest.mark.parametrize(("body", "status", "field"), [
    (BODY | {"reason": ""}, 400, "reason"), ({"alias": "production", "version": 2}, 400, "reason"),
    (BODY | {"alias": "Prod!"}, 400, "alias"), (BODY | {"version": 0}, 400, "version"),
    (BODY | {"purpose": "yolo"}, 400, "purpose"), (BODY | {"version": 9}, 404, None),
    (BODY | {"version": 1}, 409, "version"),
])
def test_bad_requests_are_refused_naming_the_field(as_user, maintainer, candidate, body, status, field):
    response = as_user(maintainer).post(MODEL_URL, body, format="json")
    assert response.status_code == status and response.json()["error"]["field"] == field
    assert not PromotionRequest.objects.exists()


def test_a_second_open_request_on_the_alias_is_409(as_user, reviewer, open_request):
    response = as_user(reviewer).post(MODEL_URL, BODY | {"reason": "me too"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "promotion_open"


def test_another_maintainer_approves_and_the_alias_moves(as_user, reviewer, open_request):
    response = as_user(reviewer).post(url(open_request, "approve"), {"reason": "numbers hold"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["decided_by"], body["decision_reason"]) == ("approved", "rita-reviewer",
                                                                             "numbers hold")
    assert body["current_version"] == 2 and body["diff"]["current_version"] == 1  # reviewed against v1
    assert production_version() == 2
    assert as_user(reviewer).post(url(open_request, "approve"), {}, format="json").status_code == 409


def test_the_requester_cannot_approve_or_reject(as_user, maintainer, open_request):
    for action in ("approve", "reject"):
        response = as_user(maintainer).post(url(open_request, action), {"reason": "self"}, format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "own_request"
    assert production_version() == 1


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("teammate", 403), ("outsider", 404)])
def test_only_maintainers_of_the_team_decide(request, as_user, open_request, persona, status):
    client = as_user(request.getfixturevalue(persona))
    for action in ("approve", "reject", "cancel"):
        assert client.post(url(open_request, action), {"reason": "x"}, format="json").status_code == status
    assert PromotionRequest.objects.get().status == "open" and production_version() == 1


def test_a_rejection_needs_a_reason(as_user, owner, open_request):
    response = as_user(owner).post(url(open_request, "reject"), {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "reason"
    response = as_user(owner).post(url(open_request, "reject"), {"reason": "noise"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert production_version() == 1


def test_the_requester_cancels_and_nobody_else_does(as_user, maintainer, reviewer, open_request):
    assert as_user(reviewer).post(url(open_request, "cancel"), {}, format="json").status_code == 403
    response = as_user(maintainer).post(url(open_request, "cancel"), {"reason": "wrong version"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_stale_request_shows_as_stale_and_is_409(as_user, owner, maintainer, reviewer, model, ready_iris,
                                                   iris_onnx):
    second, third = make_version(model, owner, iris_onnx[0]), make_version(model, owner, iris_onnx[0])
    promotion = services.promotion_request(actor=maintainer, model=model, alias="production", version=second,
                                           reason="voluntary review")  # production is not protected here
    services.alias_set(actor=owner, model=model, name="production", version=third)
    detail = as_user(reviewer).get(url(promotion)).json()
    assert (detail["status"], detail["stale"], detail["current_version"]) == ("stale", True, 3)
    response = as_user(reviewer).post(url(promotion, "approve"), {}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "stale"


def test_viewers_read_the_list_and_the_detail_with_filters(as_user, viewer, reviewer, open_request, protected,
                                                           owner, iris_onnx):
    services.promotion_reject(actor=reviewer, promotion=open_request, reason="no")
    third = make_version(protected, owner, iris_onnx[0])
    staging = services.promotion_request(actor=reviewer, model=protected, alias="staging", version=third,
                                         reason="x")
    client = as_user(viewer)
    assert [p["id"] for p in client.get(MODEL_URL).json()["results"]] == [staging.pk, open_request.pk]
    assert [p["id"] for p in client.get(MODEL_URL, {"status": "rejected"}).json()["results"]] == [open_request.pk]
    assert [p["id"] for p in client.get(MODEL_URL, {"alias": "staging"}).json()["results"]] == [staging.pk]
    assert client.get(MODEL_URL, {"status": "bogus"}).status_code == 400
    assert client.get(url(staging)).json()["diff"]["current_version"] is None  # staging does not exist yet


def test_the_cross_team_list_shows_only_the_callers_teams(as_user, maintainer, outsider, open_request, iris_onnx):
    churn = RegisteredModelFactory(team=TeamFactory(slug="beta"), name="churn")
    stranger = MembershipFactory(team=churn.team, role="maintainer").user
    theirs = services.promotion_request(actor=stranger, model=churn, alias="production",
                                        version=make_version(churn, stranger, iris_onnx[0]), reason="theirs")
    listing = as_user(maintainer).get("/api/v1/promotions").json()
    assert [p["id"] for p in listing["results"]] == [open_request.pk]
    for query in ({"model": "iris"}, {"alias": "production"}, {"status": "open"}):
        assert as_user(maintainer).get("/api/v1/promotions", query).json()["count"] == 1
    assert as_user(maintainer).get("/api/v1/promotions", {"model": "churn"}).json()["count"] == 0
    assert as_user(maintainer).get(url(theirs)).status_code == 404
    assert [p["id"] for p in as_user(stranger).get("/api/v1/promotions").json()["results"]] == [theirs.pk]
    assert as_user(outsider).get("/api/v1/promotions").json()["count"] == 0
    assert as_user(outsider).get(url(open_request)).status_code == 404
    assert as_user(outsider).get(MODEL_URL).status_code == 404


def test_an_unknown_request_is_404(as_user, owner):
    assert as_user(owner).get("/api/v1/promotions/999999").status_code == 404
    assert as_user(owner).post("/api/v1/promotions/999999/approve", {}, format="json").status_code == 404


def test_a_rollout_request_is_approved_without_moving_the_alias(as_user, maintainer, reviewer, candidate):
    created = as_user(maintainer).post(MODEL_URL, BODY | {"purpose": "rollout"}, format="json").json()
    approved = as_user(reviewer).post(f"/api/v1/promotions/{created['id']}/approve", {}, format="json").json()
    assert (approved["purpose"], approved["status"], approved["consumed_at"]) == ("rollout", "approved", None)
    assert production_version() == 1


def test_a_list_page_costs_the_same_queries_for_one_request_or_many(as_user, viewer, reviewer, open_request,
                                                                   protected, owner, iris_onnx):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(viewer)

    def queries() -> int:  # the registry's own (loading the caller depends on its cache's age)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/promotions").status_code == 200
        return sum("registry_modelalias" in q["sql"] or "registry_promotionrequest" in q["sql"] for q in captured)

    one = queries()
    for alias in ("staging", "canary", "shadow"):
        services.promotion_request(actor=reviewer, model=protected, alias=alias,
                                   version=make_version(protected, owner, iris_onnx[0]), reason="x")
    services.alias_set(actor=owner, model=protected, name="canary", version=open_request.version)
    assert client.get("/api/v1/promotions").json()["count"] == 4
    assert queries() == one
