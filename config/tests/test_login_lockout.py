"""Behind one trusted proxy, failed sign-ins lock a username per client address and slow it down overall.

Nobody can lock a user out from an address they do not own: the lockout is per (username, client
address), and the per-username limit is a slow-down (one attempt every few seconds, 429 + Retry-After,
never a lockout) that addresses the user has signed in from are exempt from.
"""

import secrets
import time

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from config.tests.test_client_ip import PASSWORD, PROXY, new_address, obtain, via_proxy
from registry.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def behind_nginx(settings):
    settings.MODELYARD_TRUSTED_PROXIES = 1
    settings.MODELYARD_TOKEN_THROTTLE = "1000/min"  # the throttle has its own tests
    settings.MODELYARD_LOGIN_SLOWDOWN_AFTER = 10
    settings.MODELYARD_LOGIN_SLOWDOWN_SECONDS = 2


@pytest.fixture
def user(db):
    # A new username per test: the slow-down's slot and known addresses live in the shared cache.
    return UserFactory(username=f"victim-{secrets.token_hex(4)}", is_staff=True)


def fail_from_many_addresses(username: str, count: int) -> None:
    client = APIClient()
    for _ in range(count):
        assert obtain(client, username, **via_proxy(new_address(), forged=new_address())).status_code == 401


def test_failures_from_one_address_do_not_lock_the_user_out_from_another(user, settings):
    client, attacker, owner = APIClient(), new_address(), new_address(v6=True)
    codes = [obtain(client, user.username, **via_proxy(attacker, forged=new_address())).status_code
             for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert codes == [401] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert obtain(client, user.username, PASSWORD, **via_proxy(attacker)).json()["error"]["code"] == "locked_out"
    assert obtain(client, user.username, PASSWORD, **via_proxy(owner)).status_code == 200
    # The proxy's own address is nobody's: nothing was recorded against it.
    assert not AccessAttempt.objects.filter(ip_address=PROXY).exists()


SIGN_IN_PAGES = ["/admin/login/", "/console/login"]


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_the_console_locks_per_address_too(client, user, settings, page):
    attacker, owner = new_address(), new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(page, {"username": user.username, "password": "wrong"},
                    **via_proxy(attacker, forged=new_address()))
    locked = client.post(page, {"username": user.username, "password": PASSWORD}, **via_proxy(attacker))
    assert locked.status_code == 429
    assert b"locked" in locked.content
    signed_in = client.post(page, {"username": user.username, "password": PASSWORD}, **via_proxy(owner))
    assert signed_in.status_code == 302


def test_many_failures_slow_a_username_down_without_locking_its_owner_out(user, settings):
    fail_from_many_addresses(user.username, settings.MODELYARD_LOGIN_SLOWDOWN_AFTER)
    client, owner = APIClient(), new_address()
    # Slowed down: the next attempt (anyone's) takes the username's slot; until it frees, 429 + Retry-After.
    assert obtain(client, user.username, **via_proxy(new_address())).status_code == 401
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):  # more than the lockout limit: these are not failures
        slowed = obtain(client, user.username, PASSWORD, **via_proxy(owner))
        assert slowed.status_code == 429 and slowed.json()["error"]["code"] == "slowed_down"
        assert 1 <= int(slowed["Retry-After"]) <= settings.MODELYARD_LOGIN_SLOWDOWN_SECONDS
        assert "access" not in slowed.json()
    assert not AccessAttempt.objects.filter(username=user.username, ip_address=owner).exists()
    # After the wait, the owner signs in from their own address.
    time.sleep(int(slowed["Retry-After"]) + 0.2)
    assert obtain(client, user.username, PASSWORD, **via_proxy(owner)).status_code == 200


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_the_console_answers_a_slowed_down_sign_in_with_retry_after(client, user, settings, page):
    fail_from_many_addresses(user.username, settings.MODELYARD_LOGIN_SLOWDOWN_AFTER + 1)
    slowed = client.post(page, {"username": user.username, "password": PASSWORD},
                         **via_proxy(new_address()))
    assert slowed.status_code == 429 and 1 <= int(slowed["Retry-After"]) <= settings.MODELYARD_LOGIN_SLOWDOWN_SECONDS
    assert b"try again in a few seconds" in slowed.content


def test_an_address_the_user_signed_in_from_is_not_slowed_down(user, settings):
    client, home = APIClient(), new_address(v6=True)
    assert obtain(client, user.username, PASSWORD, **via_proxy(home)).status_code == 200
    fail_from_many_addresses(user.username, settings.MODELYARD_LOGIN_SLOWDOWN_AFTER + 1)
    assert obtain(client, user.username, PASSWORD, **via_proxy(new_address())).status_code == 429
    assert obtain(client, user.username, PASSWORD, **via_proxy(home, forged=new_address())).status_code == 200
