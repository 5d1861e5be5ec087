"""The one authentication class of every API route: simplejwt's verification, a per-process cache.

A bearer token is verified once per process by simplejwt's own ``TokenBackend`` (so every algorithm,
key, JWKS URL, issuer, audience and leeway simplejwt supports applies to predict routes too); after
that only its expiry is re-checked. The caller (active flag, staff flag, team roles, token version)
is cached per process, dropped through the bus when the user, a membership or their token state
changes, and reloaded after ``MODELYARD_CALLER_CACHE_SECONDS`` whatever the bus says, so a bulk
UPDATE or a lost message is also seen within that time. Steady state costs no SQL within that window.

A team's service token is an access token of its service account, so it takes this same path; its
last use is noted in the shared cache at most once a minute per process (``registry.tokens``).

``request.user`` is the user row loaded lazily (routes that need it pay one query, as with simplejwt);
``request.auth`` is a :class:`Grant`, which the predict routes use without touching the database.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.functional import SimpleLazyObject
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenBackendError

from core import bus
from core.errors import UNAUTHENTICATED
from registry.models import Membership, Role
from registry.permissions import check_role
from registry.tokens import SERVICE_CLAIM, VERSION_CLAIM, note_service_use, token_backend, token_version


def NotAuthenticated(message: str) -> AuthenticationFailed:  # noqa: N802  (reads as the exception it makes)
    # DRF's own class: its handler adds WWW-Authenticate, and the envelope has one body for every cause.
    return AuthenticationFailed(message)


@dataclass(frozen=True)
class Caller:
    user_id: int
    is_staff: bool
    roles: dict[int, str]  # team id -> role
    token_version: str

    def require(self, team_id: int, role: str, what: str) -> None:
        check_role(Role.OWNER if self.is_staff else self.roles.get(team_id), role, what=what)


@dataclass(frozen=True)
class Grant:
    """What a verified access token grants: the cached caller and the token's claims."""

    caller: Caller
    claims: dict[str, Any]


def _caller_ttl() -> float:
    return settings.MODELYARD_CALLER_CACHE_SECONDS


callers = bus.LocalCache("user", max_entries=100_000, ttl=None)


@dataclass(frozen=True)
class _Verified:
    """A token whose signature and claims passed, with what each later request needs precomputed."""

    claims: dict[str, Any]
    valid_until: float  # exp plus simplejwt's leeway
    user_id: int
    source: Any  # simplejwt's settings object it was verified under (rebound when settings change)


_verified: OrderedDict[str, _Verified] = OrderedDict()
_VERIFIED_MAX = 10_000
_verified_lock = threading.Lock()


def _decode(token: str) -> _Verified:
    source = jwt_settings.api_settings
    backend = token_backend()
    try:
        claims = backend.decode(token, verify=True)
    except TokenBackendError:
        raise NotAuthenticated(UNAUTHENTICATED) from None
    required = (source.TOKEN_TYPE_CLAIM, source.USER_ID_CLAIM, "exp", VERSION_CLAIM)
    if any(claim not in claims for claim in required) or claims[source.TOKEN_TYPE_CLAIM] != "access":
        raise NotAuthenticated(UNAUTHENTICATED)
    try:
        user_id = int(claims[source.USER_ID_CLAIM])
    except (TypeError, ValueError):
        raise NotAuthenticated(UNAUTHENTICATED) from None
    return _Verified(claims, claims["exp"] + backend.get_leeway().total_seconds(), user_id, source)


def _verified_token(token: str) -> _Verified:
    """Verified once per process and settings; later requests only re-check the expiry."""
    entry = _verified.get(token)
    if entry is None or entry.source is not jwt_settings.api_settings:
        entry = _decode(token)
        with _verified_lock:
            _verified[token] = entry
            if len(_verified) > _VERIFIED_MAX:
                _verified.popitem(last=False)
    elif entry.valid_until < time.time():
        raise NotAuthenticated(UNAUTHENTICATED)
    return entry


def verified_claims(token: str) -> dict[str, Any]:
    return _verified_token(token).claims


def _load(user_id: int) -> Caller | None:
    row = (get_user_model().objects.filter(pk=user_id, is_active=True)
           .values_list("is_staff", "password", "token_state__generation").first())
    if row is None:
        return None
    roles = dict(Membership.objects.filter(user_id=user_id).values_list("team_id", "role"))
    return Caller(user_id=user_id, is_staff=row[0], roles=roles, token_version=token_version(row[1], row[2] or 0))


def _caller(entry: _Verified) -> Caller:
    user_id = entry.user_id
    callers.ttl = _caller_ttl()
    caller = callers.get_or_load(str(user_id), lambda: _load(user_id))
    # Unknown, deactivated, or the token predates a password change or a revoke-all.
    if not isinstance(caller, Caller) or entry.claims[VERSION_CLAIM] != caller.token_version:
        raise NotAuthenticated(UNAUTHENTICATED)
    return caller


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Grant] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            return None  # anonymous: the view's permission decides (public routes stay public)
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme != "Bearer" or not token:
            raise NotAuthenticated(UNAUTHENTICATED)
        entry = _verified_token(token)
        caller, claims = _caller(entry), entry.claims
        if SERVICE_CLAIM in claims:  # a team's service token (services/service_tokens.py): note its use
            note_service_use(str(claims.get(jwt_settings.api_settings.JTI_CLAIM)))
        user = SimpleLazyObject(lambda: get_user_model().objects.get(pk=caller.user_id))
        return user, Grant(caller, claims)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasGrant(BasePermission):
    """Signed in with a valid access token, decided without loading the user row."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Grant)
