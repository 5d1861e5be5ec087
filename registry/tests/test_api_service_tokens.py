"""GET/POST /api/v1/teams/{slug}/tokens and DELETE /api/v1/teams/{slug}/tokens/{id}: owners only, the secret once,
and a token acting with exactly its team role on the API and serving routes."""

import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from registry.models import AuditEvent, Role, ServiceToken
from registry.services.service_tokens import service_token_create
from registry.tests.service_tokens import bearer, counts

TOKENS = "/api/v1/teams/acme/tokens"
PREDICT = "/api/v1/models/iris/aliases/production/predict"


def test_an_owner_creates_lists_and_revokes_a_token(as_user, owner, ready_iris, iris_rows):
    client = as_user(owner)
    created = client.post(TOKENS, {"name": "ci-deploy", "role": "predictor"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["token"]
    assert body["name"] == "ci-deploy" and body["role"] == "predictor" and body["state"] == "active"
    assert body["created_by"] == owner.username and body["expires_at"] is None and body["revoked_at"] is None
    assert bearer(secret).post(PREDICT, {"inputs": iris_rows}, format="json").status_code == 200

    listed = client.get(TOKENS)
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["id"] == body["id"] and row["last_used_at"] is not None
    assert "token" not in row and secret not in listed.content.decode()  # shown once: never again

    assert client.delete(f"{TOKENS}/{body['id']}").status_code == 204
    refused = bearer(secret).post(PREDICT, {"inputs": iris_rows}, format="json")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"
    (row,) = client.get(TOKENS).json()["results"]
    assert row["state"] == "revoked" and row["revoked_by"] == owner.username
    assert client.delete(f"{TOKENS}/{body['id']}").status_code == 204  # again: nothing changes
    assert AuditEvent.objects.filter(action__startswith="service_token.").count() == 2


@pytest.mark.parametrize("persona", ["maintainer", "teammate", "viewer"])
def test_other_members_get_403(request, as_user, owner, team, persona):
    token, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="ci")
    client = as_user(request.getfixturevalue(persona))
    before = counts()
    assert client.get(TOKENS).status_code == 403
    assert client.post(TOKENS, {"name": "mine", "role": "viewer"}, format="json").status_code == 403
    assert client.delete(f"{TOKENS}/{token.pk}").status_code == 403
    assert counts() == before and ServiceToken.objects.get().revoked_at is None


def test_outsiders_get_404_and_another_teams_token_is_not_found(as_user, owner, team, outsider):
    token, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="ci")
    client = as_user(outsider)
    assert client.get(TOKENS).status_code == 404
    assert client.post(TOKENS, {"name": "mine", "role": "viewer"}, format="json").status_code == 404
    assert client.delete(f"{TOKENS}/{token.pk}").status_code == 404
    # The outsider owns other-team: naming acme's token under it finds nothing.
    missing = client.delete(f"/api/v1/teams/other-team/tokens/{token.pk}")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "token_id"
    assert ServiceToken.objects.get().revoked_at is None


@pytest.mark.parametrize("body, field", [
    ({"role": "viewer"}, "name"), ({"name": "ci"}, "role"), ({"name": "ci", "role": "root"}, "role"),
    ({"name": "Has Spaces", "role": "viewer"}, "name"), ({"name": "x" * 51, "role": "viewer"}, "name"),
    ({"name": "ci", "role": "viewer", "expires_at": "tomorrow"}, "expires_at"),
    ({"name": "ci", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"name": ["ci"], "role": "viewer"}, "name"),
])
def test_bad_input_gets_a_400_envelope_and_leaves_no_row(as_user, owner, body, field):
    before = counts()
    response = as_user(owner).post(TOKENS, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == field and error["message"]
    assert counts() == before


def test_a_duplicate_live_name_is_409_and_leaves_no_row(as_user, owner):
    client = as_user(owner)
    assert client.post(TOKENS, {"name": "ci", "role": "viewer"}, format="json").status_code == 201
    before = counts()
    response = client.post(TOKENS, {"name": "ci", "role": "owner"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["field"] == "name"
    assert counts() == before


def test_a_token_acts_with_exactly_its_role_and_team(as_user, owner, team, outsider, ready_iris, iris_rows):
    _, viewer_secret = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="reader")
    _, predictor_secret = service_token_create(actor=owner, team=team, role=Role.PREDICTOR, name="scorer")
    viewer, predictor = bearer(viewer_secret), bearer(predictor_secret)
    assert [m["name"] for m in viewer.get("/api/v1/models").json()["results"]] == ["iris"]
    assert viewer.get("/api/v1/models/iris/versions/1").status_code == 200
    assert viewer.post(PREDICT, {"inputs": iris_rows}, format="json").status_code == 403
    assert predictor.post(PREDICT, {"inputs": iris_rows}, format="json").status_code == 200
    upload = {"file": SimpleUploadedFile("m.onnx", b"\x08\x07")}
    assert predictor.post("/api/v1/models/iris/versions", upload, format="multipart").status_code == 403
    # Nothing of another team: the outsider's team and model are 404, as for any non-member.
    as_user(outsider).post("/api/v1/models", {"team": "other-team", "name": "secret-model"}, format="json")
    assert predictor.get("/api/v1/models/secret-model").status_code == 404
    assert predictor.get("/api/v1/teams/other-team").status_code == 404
    assert [t["slug"] for t in predictor.get("/api/v1/teams").json()["results"]] == ["acme"]


def test_an_owner_token_may_list_and_revoke_but_never_mint(as_user, owner, team):
    _, secret = service_token_create(actor=owner, team=team, role=Role.OWNER, name="root")
    other, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="ci")
    client = bearer(secret)
    assert client.get(TOKENS).status_code == 200
    before = counts()
    refused = client.post(TOKENS, {"name": "child", "role": "viewer"}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "service_account"
    assert client.post("/api/v1/teams", {"slug": "tokens-team"}, format="json").status_code == 403
    assert counts() == before
    assert client.delete(f"{TOKENS}/{other.pk}").status_code == 204
    event = AuditEvent.objects.get(action="service_token.revoke")
    assert event.actor.username.startswith("svc.acme.root.")  # the token is the actor of its own changes


def test_an_expired_token_is_refused(as_user, owner, ready_iris, iris_rows, settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "LEEWAY": 0}  # the default 5 s would only make this wait longer
    when = timezone.now() + timedelta(seconds=2)
    expires = when.isoformat()
    created = as_user(owner).post(TOKENS, {"name": "brief", "role": "predictor", "expires_at": expires},
                                  format="json")
    assert created.status_code == 201 and created.json()["expires_at"]
    client = bearer(created.json()["token"])
    assert client.post(PREDICT, {"inputs": iris_rows}, format="json").status_code == 200  # verified and cached
    time.sleep(max(0.0, when.timestamp() - time.time()) + 0.2)
    for path in (PREDICT, "/api/v1/models"):
        refused = client.post(path, {"inputs": iris_rows}, format="json") if path == PREDICT else client.get(path)
        assert refused.status_code == 401, path
    (row,) = as_user(owner).get(TOKENS).json()["results"]
    assert row["state"] == "expired"


def test_the_routes_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/teams/{slug}/tokens"])
    assert "delete" in schema["paths"]["/api/v1/teams/{slug}/tokens/{token_id}"]
    created = schema["components"]["schemas"]["ServiceTokenCreated"]
    assert "token" in created["properties"] and "token" not in schema["components"]["schemas"]["ServiceToken"][
        "properties"]
