"""Who is calling and what they may do, without a database query once cached.

Access tokens are checked statelessly (signature, expiry, issuer, audience, type). A caller's
active flag, staff flag and team roles are cached per process and dropped through the bus when a
user or a membership changes, so a deactivated user is refused within a second.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from core.envelope import UNAUTHENTICATED
from core.errors import ModelyardError
from registry.models import Membership, Role
from registry.permissions import check_role
from serving import bus


class NotAuthenticated(ModelyardError):
    status = 401
    code = "not_authenticated"


@dataclass(frozen=True)
class Caller:
    user_id: int
    is_staff: bool
    roles: dict[int, str]  # team id -> role

    def require(self, team_id: int, role: str, what: str) -> None:
        check_role(Role.OWNER if self.is_staff else self.roles.get(team_id), role, what=what)


callers = bus.LocalCache("user", max_entries=100_000)
_INVALID = UNAUTHENTICATED


# Verified tokens, so that a caller's token is checked cryptographically once per process. What
# can change about a verified token is only time: expiry is re-checked on every use.
_verified: OrderedDict[str, dict] = OrderedDict()
_VERIFIED_MAX = 10_000
_verified_lock = threading.Lock()


def _decode(token: str) -> dict:
    jwt_settings = settings.SIMPLE_JWT
    try:
        claims = jwt.decode(
            token, jwt_settings["SIGNING_KEY"], algorithms=[jwt_settings["ALGORITHM"]],
            audience=jwt_settings["AUDIENCE"], issuer=jwt_settings["ISSUER"], leeway=jwt_settings["LEEWAY"],
            options={"require": ["exp", "iat", "jti", "token_type", "user_id"]},
        )
    except jwt.PyJWTError:
        raise NotAuthenticated(_INVALID) from None
    if claims.get("token_type") != "access":
        raise NotAuthenticated(_INVALID)
    return claims


def _claims(request: HttpRequest) -> dict:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    token = token.strip()
    if scheme != "Bearer" or not token:
        raise NotAuthenticated(_INVALID)
    claims = _verified.get(token)
    if claims is None:
        claims = _decode(token)
        with _verified_lock:
            _verified[token] = claims
            if len(_verified) > _VERIFIED_MAX:
                _verified.popitem(last=False)
    elif claims["exp"] + settings.SIMPLE_JWT["LEEWAY"] < time.time():
        raise NotAuthenticated(_INVALID)
    return claims


def _load(user_id: int) -> Caller | None:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).values("is_staff").first()
    if user is None:
        return None
    roles = dict(Membership.objects.filter(user_id=user_id).values_list("team_id", "role"))
    return Caller(user_id=user_id, is_staff=user["is_staff"], roles=roles)


def authenticate(request: HttpRequest) -> Caller:
    claims = _claims(request)
    try:
        user_id = int(claims["user_id"])
    except (TypeError, ValueError):
        raise NotAuthenticated(_INVALID) from None
    caller = callers.get_or_load(str(user_id), lambda: _load(user_id))
    if not isinstance(caller, Caller):  # unknown or deactivated
        raise NotAuthenticated(_INVALID)
    return caller
