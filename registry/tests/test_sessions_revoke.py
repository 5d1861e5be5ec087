"""Sign out everywhere, password changes and deactivation: old tokens stop working on every route."""

import time

import pytest
from rest_framework.test import APIClient

from registry.models import AuditEvent
from registry.tokens import RefreshToken

PREDICT = "/api/v1/models/iris/aliases/production/predict"
ROW = {"inputs": [[5.1, 3.5, 1.4, 0.2]]}


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def refresh(token: str) -> int:
    return APIClient().post("/api/auth/token/refresh", {"refresh": token}, format="json").status_code


@pytest.fixture
def tokens(teammate, ready_iris):
    pair = RefreshToken.for_user(teammate)
    access = str(pair.access_token)
    assert with_token(access).post(PREDICT, ROW, format="json").status_code == 200
    assert with_token(access).get("/api/v1/models").status_code == 200
    return access, str(pair)


def assert_out(access: str, refresh_token: str) -> None:
    assert with_token(access).post(PREDICT, ROW, format="json").status_code == 401
    assert with_token(access).get("/api/v1/models").status_code == 401
    assert refresh(refresh_token) == 401


def test_revoke_all_signs_the_caller_out_of_every_route(tokens, teammate):
    access, refresh_token = tokens
    response = with_token(access).post("/api/auth/token/revoke-all")
    assert response.status_code == 200 and response.json() == {"revoked": True}
    assert_out(access, refresh_token)
    assert AuditEvent.objects.filter(action="user.sessions_revoke", actor=teammate).count() == 1
    # A new sign-in works again.
    fresh = RefreshToken.for_user(teammate)
    assert with_token(str(fresh.access_token)).post(PREDICT, ROW, format="json").status_code == 200


def test_revoke_all_needs_a_token():
    assert APIClient().post("/api/auth/token/revoke-all").status_code == 401


def test_a_password_change_revokes_every_token(tokens, teammate):
    access, refresh_token = tokens
    teammate.set_password("another-long-password-9")
    teammate.save()
    assert_out(access, refresh_token)


def test_a_bulk_deactivation_is_seen_once_the_cached_caller_expires(tokens, teammate, settings):
    from django.contrib.auth import get_user_model

    settings.MODELYARD_CALLER_CACHE_SECONDS = 0.2
    access, _ = tokens
    get_user_model().objects.filter(pk=teammate.pk).update(is_active=False)  # no signal, no bus message
    time.sleep(0.3)
    assert with_token(access).post(PREDICT, ROW, format="json").status_code == 401


def test_a_refresh_token_from_a_sign_in_older_than_the_session_limit_is_refused(teammate, settings):
    token = RefreshToken.for_user(teammate)
    token["sat"] = int(time.time()) - 31 * 86400
    settings.MODELYARD_SESSION_MAX_DAYS = 30
    assert refresh(str(token)) == 401


def test_rotation_keeps_the_sign_in_time(teammate):
    first = RefreshToken.for_user(teammate)
    response = APIClient().post("/api/auth/token/refresh", {"refresh": str(first)}, format="json")
    assert response.status_code == 200
    assert RefreshToken(response.json()["refresh"])["sat"] == first["sat"]


def test_staff_sign_a_user_out_from_the_admin(client, teammate, tokens, django_user_model):
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "pw-long-enough-1")
    client.force_login(staff)
    response = client.post("/admin/auth/user/", {"action": "revoke_sessions", "_selected_action": [teammate.pk]})
    assert response.status_code == 302
    assert_out(*tokens)
    assert AuditEvent.objects.filter(action="user.sessions_revoke", actor=staff).count() == 1
