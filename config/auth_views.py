"""Token endpoints: public by necessity (except revoke), throttled, with login lockout."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from core.envelope import envelope
from core.errors import Forbidden, ModelyardError

LOCKED = "Too many failed sign-ins: this account is locked for a while from your address"


class Locked(ModelyardError):
    status = 429
    code = "locked_out"

    def __init__(self) -> None:
        super().__init__(LOCKED)


class TokenThrottle(ScopedRateThrottle):
    """Per client address, in the shared cache; the rate is read at call time so it can be tuned."""

    def get_rate(self) -> str:
        return settings.MODELYARD_TOKEN_THROTTLE


class _Throttled:
    throttle_classes = [TokenThrottle]
    throttle_scope = "token"


class TokenObtainView(_Throttled, jwt_views.TokenObtainPairView):
    permission_classes = [AllowAny]

    def handle_exception(self, exc: Exception) -> Response:
        # Axes flags the DRF request it was given; Django's authenticate() has turned its refusal
        # into a plain failure by now, so the lockout is reported here.
        if getattr(self.request, "axes_locked_out", False):
            exc = Locked()
        return super().handle_exception(exc)


class TokenRefreshView(_Throttled, jwt_views.TokenRefreshView):
    permission_classes = [AllowAny]


class TokenRevokeView(_Throttled, jwt_views.TokenBlacklistView):
    """Revoke a refresh token: only its owner, signed in with an access token, may do so."""

    authentication_classes = [JWTAuthentication]  # simplejwt's view has none: anyone could revoke
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
    if request.path.startswith("/admin/"):
        return HttpResponse(LOCKED, status=429, content_type="text/plain")
    return JsonResponse(envelope("locked_out", LOCKED), status=429)
