"""One client address (core.client_ip) for the token throttle, the audit log and the lockout.

Requests here come "through nginx": REMOTE_ADDR is the proxy and X-Forwarded-For ends with the address
nginx saw ($proxy_add_x_forwarded_for), after whatever the client itself put in the header. Addresses
are random per test: throttle counters live in the shared cache (file or Redis) and outlive a test.
"""

import ipaddress
import secrets

from django.test import RequestFactory
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIClient

from core.client_ip import client_ip
from registry.models import AuditEvent
from registry.tests.factories import UserFactory

PROXY = "172.18.0.5"  # the nginx container, as gunicorn sees it
PASSWORD = "correct horse battery staple"  # UserFactory's


def new_address(v6: bool = False) -> str:
    if v6:
        return str(ipaddress.IPv6Address((0x20010DB8 << 96) | secrets.randbits(64)))
    return str(ipaddress.IPv4Address((10 << 24) | secrets.randbits(24)))


def via_proxy(client_address: str, *, forged: str | None = None) -> dict[str, str]:
    """The request environ nginx produces for a client that sent X-Forwarded-For: forged (or nothing)."""
    chain = f"{forged}, {client_address}" if forged is not None else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}


def obtain(client: APIClient, username: str, password: str = "wrong", **environ: str):
    return client.post("/api/auth/token", {"username": username, "password": password}, format="json", **environ)


def test_the_client_is_the_address_n_trusted_hops_from_the_right(settings):
    factory = RequestFactory()

    def ip(hops: int, forwarded: str | None, remote: str = PROXY) -> str | None:
        settings.MODELYARD_TRUSTED_PROXIES = hops
        environ = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            environ["HTTP_X_FORWARDED_FOR"] = forwarded
        return client_ip(factory.get("/", **environ))

    assert ip(1, "203.0.113.7") == "203.0.113.7"
    assert ip(1, "6.6.6.6, 203.0.113.7") == "203.0.113.7"  # the client's own entry is never read
    assert ip(1, "6.6.6.6,203.0.113.7 ") == "203.0.113.7"
    assert ip(2, "6.6.6.6, 203.0.113.7, 198.51.100.1") == "203.0.113.7"  # a load balancer, then nginx
    assert ip(1, "2001:DB8::1") == "2001:db8::1"  # canonical form: one key per address
    assert ip(1, "::ffff:203.0.113.7") == "203.0.113.7"
    # Not through every proxy, or a trusted proxy wrote something that is not an address: REMOTE_ADDR.
    assert ip(1, None) == PROXY
    assert ip(1, "") == PROXY
    assert ip(2, "203.0.113.7") == PROXY
    assert ip(1, "6.6.6.6, not-an-address") == PROXY
    assert ip(1, "6.6.6.6, ") == PROXY
    assert ip(1, "203.0.113.7:4711") == PROXY
    # No trusted proxy: the header is ignored entirely.
    assert ip(0, "203.0.113.7") == PROXY
    assert ip(0, "203.0.113.7", remote="::ffff:192.0.2.1") == "192.0.2.1"
    assert ip(0, None, remote="") is None


def test_a_drf_request_gives_the_same_address(settings):
    settings.MODELYARD_TRUSTED_PROXIES = 1
    django_request = RequestFactory().post("/", **via_proxy("203.0.113.7", forged="6.6.6.6"))
    assert client_ip(Request(django_request, parsers=[JSONParser()])) == client_ip(django_request) == "203.0.113.7"


def test_rotating_x_forwarded_for_does_not_bypass_the_token_throttle(db, settings):
    settings.MODELYARD_TRUSTED_PROXIES = 1
    settings.MODELYARD_TOKEN_THROTTLE = "3/min"
    client, attacker, bystander = APIClient(), new_address(), new_address(v6=True)
    codes = [obtain(client, f"nobody{i}", **via_proxy(attacker, forged=new_address())).status_code
             for i in range(6)]
    assert codes == [401, 401, 401, 429, 429, 429]
    throttled = obtain(client, "nobody", **via_proxy(attacker, forged=new_address()))
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    # Counted per real client: another address behind the same proxy still has its whole allowance.
    assert obtain(client, "nobody", **via_proxy(bystander)).status_code == 401


def test_without_trusted_proxies_x_forwarded_for_is_ignored_entirely(db, settings, as_user):
    settings.MODELYARD_TRUSTED_PROXIES = 0
    settings.MODELYARD_TOKEN_THROTTLE = "3/min"
    client, remote = APIClient(), new_address()
    codes = [obtain(client, f"nobody{i}", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=new_address()).status_code
             for i in range(4)]
    assert codes == [401, 401, 401, 429]

    # The lockout and the audit log ignore it too.
    settings.MODELYARD_TOKEN_THROTTLE = "100/min"
    user, other = UserFactory(username=f"xff-{secrets.token_hex(4)}"), new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        obtain(client, user.username, REMOTE_ADDR=other, HTTP_X_FORWARDED_FOR=new_address())
    right = obtain(client, user.username, PASSWORD, REMOTE_ADDR=other, HTTP_X_FORWARDED_FOR=new_address())
    assert right.status_code == 429 and right.json()["error"]["code"] == "locked_out"

    created = as_user(user).post("/api/v1/teams", {"slug": "vision", "name": "Vision"}, format="json",
                                 REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert created.status_code == 201
    assert AuditEvent.objects.get(action="team.create").ip == remote


def test_the_audit_row_records_the_client_not_the_proxy(db, settings, as_user):
    settings.MODELYARD_TRUSTED_PROXIES = 1
    client, address = as_user(UserFactory()), new_address(v6=True)
    response = client.post("/api/v1/teams", {"slug": "vision", "name": "Vision"}, format="json",
                           **via_proxy(address, forged="6.6.6.6"))
    assert response.status_code == 201
    assert AuditEvent.objects.get(action="team.create").ip == address
