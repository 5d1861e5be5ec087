"""Token endpoints: public by necessity (except revoke), throttled, with login lockout and slow-down.

Three limits, all keyed on the one client address that :func:`core.client_ip.client_ip` derives
(``MODELYARD_TRUSTED_PROXIES``); the last two apply to the console's sign-in and ``/api/auth/token`` alike:

- the token endpoints are throttled per client address (``MODELYARD_TOKEN_THROTTLE``);
- django-axes locks a username *from one address* after ``MODELYARD_LOGIN_FAILURE_LIMIT`` failures
  (the address is part of the key, so nobody can lock a user out from an address they do not own);
- once a username has ``MODELYARD_LOGIN_SLOWDOWN_AFTER`` failures from any addresses within the cool-off
  window, it is slowed down, not locked: it accepts one sign-in attempt every
  ``MODELYARD_LOGIN_SLOWDOWN_SECONDS`` and answers the others 429 + ``Retry-After`` without checking the
  password (and without counting them as failures). An address the user has signed in from in the last
  30 days is exempt, so an attack on a username does not keep its owner out.
"""

import hashlib
import math
import time
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from core.client_ip import client_ip
from core.envelope import envelope
from core.errors import Forbidden, ModelyardError
from registry.authentication import TokenAuthentication
from registry.tokens import RefreshToken

LOCKED = "Too many failed sign-ins: this account is locked for a while from your address"
SLOWED = "Too many failed sign-ins for this account: try again in a few seconds"
# How long an address the user signed in from stays exempt from the slow-down.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600


class Locked(ModelyardError):
    status = 429
    code = "locked_out"

    def __init__(self) -> None:
        super().__init__(LOCKED)


class SlowedDown(ModelyardError):
    status = 429
    code = "slowed_down"

    def __init__(self) -> None:
        super().__init__(SLOWED)


class TokenThrottle(ScopedRateThrottle):
    """Per client address, in the shared cache; the rate is read at call time so it can be tuned."""

    def get_rate(self) -> str:
        return settings.MODELYARD_TOKEN_THROTTLE

    def get_ident(self, request: Request) -> str:
        # Not DRF's own (which keys on the raw X-Forwarded-For when NUM_PROXIES is unset): the one address.
        return client_ip(request) or ""


# --- Per-username slow-down ---------------------------------------------------------------------

def _cache_key(kind: str, *parts: str) -> str:
    # Hashed: usernames may hold characters a cache backend refuses in keys (memcached: spaces).
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]
    return f"modelyard:signin:{kind}:{digest}"


def recent_failures(username: str) -> int:
    """Failed sign-ins for this username within the cool-off window, from every address (axes' rows)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
             .aggregate(n=Sum("failures_since_start"))["n"])
    return total or 0


def remember_address(username: str, ip: str | None) -> None:
    if ip:
        cache.set(_cache_key("known", username, ip), 1, timeout=KNOWN_ADDRESS_SECONDS)


def slowdown_wait(username: str, ip: str | None) -> int:
    """Seconds this sign-in attempt must wait; 0 lets it through (and takes the username's slot)."""
    after = settings.MODELYARD_LOGIN_SLOWDOWN_AFTER
    if after <= 0:
        return 0
    if ip and cache.get(_cache_key("known", username, ip)):
        return 0
    if recent_failures(username) < after:
        return 0
    interval = settings.MODELYARD_LOGIN_SLOWDOWN_SECONDS
    key = _cache_key("slot", username)
    now = time.time()
    if cache.add(key, now + interval, timeout=interval):
        return 0
    until = cache.get(key)
    if until is None or until <= now:  # the slot expired between the two calls
        cache.set(key, now + interval, timeout=interval)
        return 0
    return max(1, math.ceil(until - now))


class SlowDownModelBackend(ModelBackend):
    """Django's ModelBackend behind the per-username slow-down; listed after axes' backend.

    A slowed-down attempt is refused before the password is checked, flagged on the request (the token
    view and, through axes' middleware, :func:`lockout_response` turn the flag into 429 + Retry-After)
    and not recorded as a failure (:func:`axes_not_an_attempt`). A success remembers the address.
    """

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if request is None or username is None or password is None:
            return super().authenticate(request, username, password, **kwargs)
        ip = client_ip(request)
        wait = slowdown_wait(str(username), ip)
        if wait:
            request.modelyard_retry_after = wait
            request.axes_locked_out = True  # so that AxesMiddleware answers a console sign-in
            raise PermissionDenied("slowed down")
        user = super().authenticate(request, username, password, **kwargs)
        if user is not None:
            remember_address(str(username), ip)
        return user


def axes_not_an_attempt(request: Any, credentials: Any) -> bool:
    """AXES_WHITELIST_CALLABLE: a slowed-down attempt checked no password, so axes does not count it."""
    return getattr(request, "modelyard_retry_after", None) is not None


class _Throttled:
    throttle_classes = [TokenThrottle]
    throttle_scope = "token"


class TokenObtainView(_Throttled, jwt_views.TokenObtainPairView):
    permission_classes = [AllowAny]

    def handle_exception(self, exc: Exception) -> Response:
        # Axes (and the slow-down) flag the DRF request they were given; Django's authenticate() has
        # turned their refusal into a plain failure by now, so it is reported here.
        wait = getattr(self.request, "modelyard_retry_after", None)
        if wait:
            response = super().handle_exception(SlowedDown())
            response["Retry-After"] = str(wait)
            return response
        if getattr(self.request, "axes_locked_out", False):
            exc = Locked()
        return super().handle_exception(exc)


class TokenRefreshView(_Throttled, jwt_views.TokenRefreshView):
    permission_classes = [AllowAny]


class TokenRevokeView(_Throttled, jwt_views.TokenBlacklistView):
    """Revoke a refresh token: only its owner, signed in with an access token, may do so."""

    authentication_classes = [TokenAuthentication]  # simplejwt's view has none: anyone could revoke
    permission_classes = [IsAuthenticated]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw = request.data.get("refresh") if isinstance(request.data, dict) else None
        if not isinstance(raw, str) or not raw:
            raise ModelyardError("A refresh token is required", field="refresh", code="required")
        try:
            token = RefreshToken(raw)  # checks signature, expiry, type and the blacklist
        except TokenError:
            raise InvalidToken() from None
        if str(token.payload.get("user_id")) != str(request.user.pk):
            raise Forbidden("Only the owner of a refresh token may revoke it", field="refresh")
        token.blacklist()
        return Response({}, status=status.HTTP_200_OK)


def lockout_response(request: HttpRequest, original: HttpResponse | None, credentials: Any) -> HttpResponse:
    wait = getattr(request, "modelyard_retry_after", None)
    code, message = ("slowed_down", SLOWED) if wait else ("locked_out", LOCKED)
    if request.path.startswith("/console/"):
        from console.views.auth import locked_out

        response = locked_out(request, message)
    elif request.path.startswith("/admin/"):
        response = HttpResponse(message, status=429, content_type="text/plain")
    else:
        response = JsonResponse(envelope(code, message), status=429)
    if wait:
        response["Retry-After"] = str(wait)
    return response
