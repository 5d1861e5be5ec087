"""Tokens: simplejwt's, plus a token-version claim that a password change or a revoke-all invalidates.

Every access and refresh token carries ``tv``, a keyed fingerprint of the user's password hash and
their ``TokenState.generation``. Changing the password or bumping the generation changes the
fingerprint, so every token issued before stops working on every route: the authentication class
compares the claim with the caller it caches, and the refresh endpoint with the database. ``sat``
(session authenticated at) bounds how long rotation can keep one sign-in alive.

The token backend is built from simplejwt's settings at call time (not frozen at import), so HS256,
RS256/ES256 with ``VERIFYING_KEY``, ``JWK_URL``, issuer, audience and leeway apply to every route.
"""

import logging
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt import tokens as jwt_tokens
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from registry.models import TokenState

VERSION_CLAIM = "tv"
SESSION_CLAIM = "sat"
# Service-account tokens (registry/services/service_tokens.py) name their ServiceToken row.
SERVICE_CLAIM = "stk"
# A service token's last use is noted in the shared cache at most this often per process: no SQL on any route.
LAST_USED_EVERY_SECONDS = 60.0
_LAST_USED_KEEP_SECONDS = 90 * 86400
_noted: dict[str, float] = {}
logger = logging.getLogger(__name__)


def token_version(password: str, generation: int) -> str:
    """Changes whenever the password hash or the generation does; reveals neither."""
    return salted_hmac("modelyard.token-version", f"{password}\x00{generation}", algorithm="sha256").hexdigest()[:24]


def current_version(user_id: Any) -> str | None:
    """The version a valid token of this user carries now; None for an unknown or inactive user."""
    row = (get_user_model().objects.filter(pk=user_id, is_active=True)
           .values_list("password", "token_state__generation").first())
    return None if row is None else token_version(row[0], row[1] or 0)


@lru_cache(maxsize=4)
def _backend(*config: Any) -> TokenBackend:
    return TokenBackend(*config)


def token_backend() -> TokenBackend:
    s = jwt_settings.api_settings  # read each time: simplejwt rebinds it when settings change
    return _backend(s.ALGORITHM, s.SIGNING_KEY, s.VERIFYING_KEY, s.AUDIENCE, s.ISSUER, s.JWK_URL, s.LEEWAY,
                    s.JSON_ENCODER)


class _Backend:
    def get_token_backend(self) -> TokenBackend:
        return token_backend()


class AccessToken(_Backend, jwt_tokens.AccessToken):
    pass


class RefreshToken(_Backend, jwt_tokens.RefreshToken):
    access_token_class = AccessToken

    @classmethod
    def for_user(cls, user: Any) -> "RefreshToken":
        token = super().for_user(user)
        generation = TokenState.objects.filter(user_id=user.pk).values_list("generation", flat=True).first() or 0
        token[VERSION_CLAIM] = token_version(user.password, generation)
        token[SESSION_CLAIM] = int(time.time())
        return token


def check_refresh(token: RefreshToken) -> None:
    """A refresh token is still good: its user is active, nothing revoked it, the sign-in is not too old."""
    user_id = token.payload.get(jwt_settings.api_settings.USER_ID_CLAIM)
    version = current_version(user_id)
    if version is None or token.payload.get(VERSION_CLAIM) != version:
        raise AuthenticationFailed("Token has been revoked", code="token_not_valid")
    signed_in = token.payload.get(SESSION_CLAIM)
    max_age = settings.MODELYARD_SESSION_MAX_DAYS * 86400
    if not isinstance(signed_in, int) or time.time() - signed_in > max_age:
        raise AuthenticationFailed("The sign-in is too old: sign in again", code="token_not_valid")


class TokenObtainSerializer(jwt_serializers.TokenObtainPairSerializer):
    token_class = RefreshToken


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        check_refresh(self.token_class(attrs["refresh"]))
        return super().validate(attrs)


def _last_used_key(jti: str) -> str:
    return f"modelyard:service-token:last-used:{jti}"


def note_service_use(jti: str) -> None:
    """Remember when a service token was last used (to within a minute), without touching the database."""
    now = time.monotonic()
    if now - _noted.get(jti, -LAST_USED_EVERY_SECONDS) < LAST_USED_EVERY_SECONDS:
        return
    if len(_noted) > 10_000:
        _noted.clear()
    _noted[jti] = now
    try:
        cache.set(_last_used_key(jti), time.time(), timeout=_LAST_USED_KEEP_SECONDS)
    except Exception:  # a cache outage must not refuse a valid token
        logger.warning("could not note the use of service token %s", jti, exc_info=True)


def service_last_used(jtis: list[str]) -> dict[str, datetime]:
    """When each of these service tokens (by ``jti``) was last used, as far as the cache remembers (one read)."""
    found = cache.get_many([_last_used_key(jti) for jti in jtis]) if jtis else {}
    return {jti: datetime.fromtimestamp(found[_last_used_key(jti)], tz=UTC)
            for jti in jtis if _last_used_key(jti) in found}


def access_for_user(user: Any, lifetime: Any) -> AccessToken:
    """A short-lived access token alone (no refresh token, so no row in the blacklist tables), carrying the
    same revocation claims as a signed-in session's: the console's try-it panel uses it."""
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=lifetime)
    generation = TokenState.objects.filter(user_id=user.pk).values_list("generation", flat=True).first() or 0
    token[VERSION_CLAIM] = token_version(user.password, generation)
    token[SESSION_CLAIM] = int(time.time())
    return token
