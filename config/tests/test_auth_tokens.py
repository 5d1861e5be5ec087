import pytest
from rest_framework.test import APIClient

from registry.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


def obtain(client: APIClient, password: str = PASSWORD):
    return client.post("/api/auth/token", {"username": "alice", "password": password}, format="json")


def test_a_user_obtains_and_uses_an_access_token(user):
    client = APIClient()
    tokens = obtain(client).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/models").status_code == 200


def test_a_wrong_password_is_401_in_the_envelope(user):
    response = obtain(APIClient(), "nope")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "field"}


def test_refresh_rotates_and_the_old_refresh_token_is_dead(user):
    client = APIClient()
    first = obtain(client).json()
    rotated = client.post("/api/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200 and rotated.json()["refresh"] != first["refresh"]
    reused = client.post("/api/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert reused.status_code == 401


def test_a_revoked_refresh_token_cannot_be_refreshed(user):
    client = APIClient()
    tokens = obtain(client).json()
    assert client.post("/api/auth/token/revoke", {"refresh": tokens["refresh"]}, format="json").status_code == 200
    again = client.post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_a_refresh_token_is_not_an_access_token(user):
    client = APIClient()
    tokens = obtain(client).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['refresh']}")
    assert client.get("/api/v1/models").status_code == 401


def test_tokens_carry_issuer_and_audience(user):
    import jwt

    access = obtain(APIClient()).json()["access"]
    claims = jwt.decode(access, options={"verify_signature": False})
    assert claims["iss"] == "modelyard" and claims["aud"] == "modelyard-api"
