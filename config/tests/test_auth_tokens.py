"""Every way a credential can be wrong answers 401 with one body; revocation, lockout, throttle."""

import datetime as dt

import jwt
import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from registry.tests.factories import UserFactory
from registry.tokens import current_version

PASSWORD = "correct horse battery staple"
UNAUTHENTICATED = {"error": {"code": "not_authenticated",
                             "message": "Authentication credentials were not provided or are invalid",
                             "field": None}}
# A DRF route and a hot-path route: both authenticators must refuse identically.
PROBES = [("get", "/api/v1/models"), ("post", "/api/v1/models/iris/aliases/production/predict")]


@pytest.fixture(autouse=True)
def no_throttle_history():
    cache.delete("throttle_token_127.0.0.1")
    yield
    cache.delete("throttle_token_127.0.0.1")


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


def obtain(client: APIClient, username: str = "alice", password: str = PASSWORD):
    return client.post("/api/auth/token", {"username": username, "password": password}, format="json")


def forged(**overrides) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {"token_type": "access", "user_id": "1", "jti": "x", "iat": now, "exp": now + dt.timedelta(minutes=5),
              "iss": "modelyard", "aud": "modelyard-api"}
    key = overrides.pop("key", settings.SIMPLE_JWT["SIGNING_KEY"])
    algorithm = overrides.pop("algorithm", "HS256")
    # A genuine token's version claim for a real user, so each refusal is for the one defect its test names.
    if "user_id" in overrides and "tv" not in overrides:
        claims["tv"] = current_version(overrides["user_id"]) or "unknown-user"
    claims.update(overrides)
    return jwt.encode(claims, key if algorithm != "none" else None, algorithm=algorithm)


def assert_refused(token: str | None) -> None:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for method, url in PROBES:
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 401, (url, response.content)
        assert response.json() == UNAUTHENTICATED, url


def test_a_user_obtains_and_uses_an_access_token(user):
    client = APIClient()
    tokens = obtain(client).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/models").status_code == 200


def test_a_genuine_forged_shape_token_is_accepted_so_the_refusals_below_mean_something(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged(user_id=str(user.pk))}")
    assert client.get("/api/v1/models").status_code == 200


@pytest.mark.parametrize("token", [
    None, "", "not-a-jwt",
    forged(algorithm="none"),
    forged(key="another-key-entirely-0123456789-0123456789"),
    forged(exp=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
    forged(iss="someone-else"),
    forged(aud="another-service"),
    forged(token_type="refresh"),
], ids=["missing", "empty", "garbage", "alg-none", "other-key", "expired", "issuer", "audience", "refresh-type"])
def test_bad_tokens_are_401_with_one_body(user, token):
    assert_refused(token)


def test_a_refresh_token_is_not_an_access_token(user):
    assert_refused(obtain(APIClient()).json()["refresh"])


def test_a_deactivated_users_token_is_refused(user):
    access = obtain(APIClient()).json()["access"]
    user.is_active = False
    user.save()
    assert_refused(access)


def test_a_wrong_password_is_401_in_the_envelope(user):
    response = obtain(APIClient(), password="nope")
    assert response.status_code == 401 and response.json() == UNAUTHENTICATED


def test_refresh_rotates_and_the_old_refresh_token_is_dead(user):
    client = APIClient()
    first = obtain(client).json()
    rotated = client.post("/api/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200 and rotated.json()["refresh"] != first["refresh"]
    reused = client.post("/api/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert reused.status_code == 401 and reused.json() == UNAUTHENTICATED


def test_the_owner_revokes_a_refresh_token_and_it_is_dead(user):
    client = APIClient()
    tokens = obtain(client).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.post("/api/auth/token/revoke", {"refresh": tokens["refresh"]}, format="json").status_code == 200
    again = client.post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_nobody_else_can_revoke_a_token(user):
    UserFactory(username="mallory")
    victim = obtain(APIClient()).json()
    attacker = APIClient()
    attacker.credentials(HTTP_AUTHORIZATION=f"Bearer {obtain(attacker, 'mallory').json()['access']}")
    assert attacker.post("/api/auth/token/revoke", {"refresh": victim["refresh"]}, format="json").status_code == 403
    assert APIClient().post("/api/auth/token/revoke", {"refresh": victim["refresh"]},
                            format="json").status_code == 401
    still = APIClient().post("/api/auth/token/refresh", {"refresh": victim["refresh"]}, format="json")
    assert still.status_code == 200


def test_tokens_carry_issuer_and_audience(user):
    claims = jwt.decode(obtain(APIClient()).json()["access"], options={"verify_signature": False})
    assert claims["iss"] == "modelyard" and claims["aud"] == "modelyard-api"


def test_repeated_failures_lock_the_account_even_for_the_right_password(user, settings):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert obtain(client, password="wrong").status_code == 401
    assert obtain(client, password="wrong").status_code == 429  # the failure that reaches the limit
    locked = obtain(client)
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "locked_out"
    assert "access" not in locked.json()


def test_the_console_login_locks_out_too(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


def test_the_token_endpoint_is_throttled_per_address(user, settings):
    settings.MODELYARD_TOKEN_THROTTLE = "3/min"
    client = APIClient()
    codes = [obtain(client, username=f"nobody{i}").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
