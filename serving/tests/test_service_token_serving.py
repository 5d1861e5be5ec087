"""Service tokens on the prediction hot path: no query in steady state, refused at once once revoked,
in this process and in every gunicorn worker within a second."""

import urllib.request

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Role
from registry.services.service_tokens import service_token_create, service_token_revoke
from registry.tests.service_tokens import bearer
from serving.tests.test_live_server import assert_locked_out_within_a_second, versions_answering, wait_ready

ALIAS = "/api/v1/models/iris/aliases/production/predict"
V2 = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}


@pytest.mark.usefixtures("jwt_algorithm")  # HS256, RS256 and ES256, as the rest of the predict suite
def test_a_steady_state_prediction_with_a_service_token_makes_no_query(owner, team, ready_iris, iris_rows):
    _, secret = service_token_create(actor=owner, team=team, role=Role.PREDICTOR, name="ci")
    client = bearer(secret)
    assert client.post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 200  # fills the caches
    client.post("/v2/models/iris/infer", V2, format="json")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 200
        assert client.post("/v2/models/iris/infer", V2, format="json").status_code == 200
    assert queries.captured_queries == []


def test_a_revoked_token_is_refused_by_the_next_prediction(owner, team, ready_iris, iris_rows):
    token, secret = service_token_create(actor=owner, team=team, role=Role.PREDICTOR, name="ci")
    client = bearer(secret)
    assert client.post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 200
    service_token_revoke(actor=owner, token=token)
    for path, body in ((ALIAS, {"inputs": iris_rows}), ("/v2/models/iris/infer", V2)):
        response = client.post(path, body, format="json")
        assert response.status_code == 401, path


def test_a_token_of_too_low_a_role_is_refused_on_the_hot_path(owner, team, ready_iris, iris_rows):
    _, secret = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="reader")
    response = bearer(secret).post(ALIAS, {"inputs": iris_rows}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_revoked_token_is_out_of_every_worker_within_a_second(web_server, owner, team, ready_iris, iris_rows):
    token, secret = service_token_create(actor=owner, team=team, role=Role.PREDICTOR, name="ci")
    other, other_secret = service_token_create(actor=owner, team=team, role=Role.PREDICTOR, name="other")
    wait_ready(web_server)
    assert versions_answering(web_server, secret, iris_rows) == {1}  # every worker has the caller cached now
    assert versions_answering(web_server, other_secret, iris_rows) == {1}
    service_token_revoke(actor=owner, token=token)
    assert_locked_out_within_a_second(web_server, secret, iris_rows)
    assert versions_answering(web_server, other_secret, iris_rows, count=20) == {1}  # only that token


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_token_revoked_through_the_api_is_out_of_every_worker_within_a_second(web_server, owner, team,
                                                                                ready_iris, iris_rows):
    from conftest import client_for

    created = client_for(owner).post("/api/v1/teams/acme/tokens", {"name": "ci", "role": "predictor"},
                                     format="json").json()
    wait_ready(web_server)
    assert versions_answering(web_server, created["token"], iris_rows) == {1}
    request = urllib.request.Request(f"{web_server}/api/v1/teams/acme/tokens/{created['id']}", method="DELETE",
                                     headers={"Authorization": client_for(owner)._credentials["HTTP_AUTHORIZATION"]})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204
    assert_locked_out_within_a_second(web_server, created["token"], iris_rows)
