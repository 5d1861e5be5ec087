"""HTTP with tokens: sign-in, transparent refresh, one retry after a 401, errors turned into typed ones."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from modelyard.errors import AuthenticationError, ConnectionFailed, error_from_response

# Refresh an access token this long before it expires, so a request never leaves with a dying one.
REFRESH_MARGIN_SECONDS = 30
TokensCallback = Callable[[str | None, str | None], None]
TokensSource = Callable[[], tuple[str | None, str | None]]


def token_expiry(token: str | None) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (the server verifies); None for other tokens."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


class ProgressStream(httpx.SyncByteStream):
    """A request body that reports each chunk as it is sent (upload progress)."""

    def __init__(self, inner: Any, report: Callable[[int], None]) -> None:
        self.inner, self.report = inner, report

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            yield chunk
            self.report(len(chunk))


class Session:
    """One httpx client and the caller's tokens.

    ``token`` is used as the bearer as given (an access token or a service token); with ``refresh_token``
    an expiring access token is refreshed before use and once more after a 401; with ``username`` and
    ``password`` a sign-in happens when there is no token, and again when the refresh token is spent.
    ``on_tokens(access, refresh)`` is told of every new pair (the CLI stores them); ``stored_tokens()``
    reads the stored pair back: when the refresh token was already spent, another process sharing the
    store (a second CLI command running at the same time) has rotated it, and its new pair is used.
    """

    def __init__(self, url: str, *, token: str | None = None, refresh_token: str | None = None,
                 username: str | None = None, password: str | None = None, timeout: float = 60.0,
                 on_tokens: TokensCallback | None = None, stored_tokens: TokensSource | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.stored_tokens = stored_tokens
        self.access, self.refresh = token, refresh_token
        self.username, self.password = username, password
        self.on_tokens = on_tokens
        from modelyard import __version__

        self.http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport,
                                 headers={"User-Agent": f"modelyard-client/{__version__}"})

    # --- tokens ----------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        body = self._send_json("POST", "/api/auth/token", {"username": username, "password": password})
        self._store(body["access"], body.get("refresh"))

    def _store(self, access: str | None, refresh: str | None) -> None:
        self.access, self.refresh = access, refresh
        if self.on_tokens is not None:
            self.on_tokens(access, refresh)

    def _renew(self) -> bool:
        """A new access token from the refresh token, or a fresh sign-in; False when neither is possible."""
        if self.refresh:
            try:
                body = self._send_json("POST", "/api/auth/token/refresh", {"refresh": self.refresh})
                self._store(body["access"], body.get("refresh", self.refresh))
                return True
            except AuthenticationError:
                if self._adopt_stored():
                    return True
                if not self.password:
                    raise AuthenticationError(401, "session_expired", "Your session has ended: sign in again "
                                              "(modelyard login)") from None
        if self.username and self.password:
            self.login(self.username, self.password)
            return True
        return False

    def _adopt_stored(self) -> bool:
        """Take the stored pair if another process has rotated the refresh token since this one read it."""
        access, refresh = self.stored_tokens() if self.stored_tokens is not None else (None, None)
        if not refresh or refresh == self.refresh:
            return False
        self.access, self.refresh = access, refresh
        expiry = token_expiry(access)
        if expiry is not None and expiry - time.time() < REFRESH_MARGIN_SECONDS:
            self._renew()
        return True

    def _ensure_token(self) -> None:
        if self.access is None and self.username and self.password:
            self.login(self.username, self.password)
            return
        expiry = token_expiry(self.access)
        if expiry is not None and expiry - time.time() < REFRESH_MARGIN_SECONDS and (self.refresh or self.password):
            self._renew()

    def revoke(self) -> None:
        """Sign this session out on the server (its refresh token stops working)."""
        if self.refresh and self.access:
            self.request("POST", "/api/auth/token/revoke", json={"refresh": self.refresh})
        self._store(None, None)

    # --- requests --------------------------------------------------------------------------------

    def _send_json(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._send(self.http.build_request(method, path, json=body))
        self._raise_for(response)
        return response.json()

    def _send(self, request: httpx.Request, stream: bool = False) -> httpx.Response:
        try:
            return self.http.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            raise ConnectionFailed(f"{self.url} did not answer in time ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"Cannot reach {self.url}: {exc}") from None

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        response.read()
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        raise error_from_response(response.status_code, body, response.headers.get("Retry-After"))

    def request(self, method: str, path: str, *, stream: bool = False,
                progress: Callable[[int], None] | None = None, **kwargs: Any) -> httpx.Response:
        """Send with the bearer token; refresh and resend once after a 401. Raises ApiError for 4xx/5xx."""
        self._ensure_token()
        response = self._send(self._build(method, path, progress, kwargs), stream)
        if response.status_code == 401 and (self.refresh or self.password):
            response.close()
            if self._renew():
                response = self._send(self._build(method, path, progress, kwargs), stream)
        self._raise_for(response)
        return response

    def _build(self, method: str, path: str, progress: Callable[[int], None] | None,
               kwargs: dict[str, Any]) -> httpx.Request:
        files = kwargs.get("files")
        for value in (files or {}).values():  # a resend reads the file again from its start
            handle = value[1] if isinstance(value, tuple) else value
            if hasattr(handle, "seek"):
                handle.seek(0)
        headers = dict(kwargs.pop("headers", None) or {})
        if self.access:
            headers["Authorization"] = f"Bearer {self.access}"
        request = self.http.build_request(method, path, headers=headers, **kwargs)
        kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
        if progress is not None:
            request.stream = ProgressStream(request.stream, progress)
        return request

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else {}

    def close(self) -> None:
        self.http.close()
