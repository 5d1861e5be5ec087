"""The fast lane for prediction requests: a path resolved once is never resolved again.

A 1-row prediction costs onnxruntime a few microseconds; Django's handler around it cost ~250 us of
CPU per request (measured in docs/performance.md): request signals, two nested URL resolvers, a
middleware chain that sets the same headers on every answer. The lane keeps what a prediction
needs and does it once where it can:

- the URL conf is still the only list of routes: a path is resolved by Django's resolver the first
  time and the match is kept (a bounded map, emptied when full);
- the view is the same DRF view, called as Django would call it, uncaught errors answered by
  Django's own ``response_for_exception``;
- the security headers are the serving middleware's own, read off it once at start-up for plain
  and TLS requests, so there is no second list of them;
- the request id and the access log are the request-id middleware's functions;
- database connections get Django's end-of-request care only when the request opened one (a route
  loaded from the database); the steady state makes no query.

Anything else (a path never seen, a NUL in it, an HTTP request where TLS is required) goes to the
slower serving handler unchanged, so the lane can only ever answer what that handler would.
"""

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.db import connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, get_resolver
from django.utils.module_loading import import_string

from config import request_id

Found = tuple[Callable[..., HttpResponseBase], ResolverMatch]
# Distinct prediction paths kept resolved; a deployment has far fewer (models x aliases x protocols).
LIMIT = 4096


def _probe_request(secure: bool) -> WSGIRequest:
    return WSGIRequest({"REQUEST_METHOD": "POST", "PATH_INFO": "/", "SCRIPT_NAME": "", "SERVER_NAME": "localhost",
                        "SERVER_PORT": "443", "wsgi.url_scheme": "https" if secure else "http",
                        "wsgi.input": io.BytesIO()})


def static_headers(secure: bool) -> list[tuple[str, str]]:
    """The headers the serving middleware (all but the request id) adds to every answer.

    Read off the middleware itself with a probe request; a plain-HTTP probe is never made when TLS is
    required (the middleware would answer it with a redirect, and the lane sends such requests on)."""
    if not secure and settings.SECURE_SSL_REDIRECT:
        return []
    chain: Callable[[HttpRequest], HttpResponseBase] = lambda _: HttpResponse()  # noqa: E731
    for path in reversed(settings.SERVING_MIDDLEWARE):
        if path != "config.request_id.RequestIdMiddleware":
            chain = import_string(path)(chain)
    plain = set(HttpResponse().headers)
    return [(key, value) for key, value in chain(_probe_request(secure)).items() if key not in plain]


def _end_of_request() -> None:
    """Django's end-of-request care for a connection this thread opened (a route loaded from the
    database): closed when broken or past CONN_MAX_AGE, health-checked before its next use."""
    # What connections.all(initialized_only=True) reads, without building the list: 1.8 us -> 0.8 us.
    opened = connections._connections  # this thread's connections: what all() reads (Django 5.2, a private name)
    for alias in connections:
        connection = getattr(opened, alias, None)
        # Inside an atomic block only under a test, which wraps each test in one: closing would end it.
        if connection is not None and connection.connection is not None and not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def _direct(view: Callable[..., Any]) -> Callable[..., Any]:
    """A class-based view's ``lane_view`` when it has one and was made without init arguments (the
    view function ``as_view()`` returns, minus its wrappers), else the view function itself."""
    lane_view = getattr(getattr(view, "cls", None), "lane_view", None)
    return lane_view if lane_view is not None and not getattr(view, "initkwargs", None) else view


class FastLane:
    def __init__(self, fallback: WSGIHandler, is_serving: Callable[[Callable[..., Any]], bool]) -> None:
        self.fallback, self.is_serving = fallback, is_serving
        self.found: dict[str, Found] = {}
        self.headers = {False: static_headers(False), True: static_headers(True)}
        self.ssl_redirect = settings.SECURE_SSL_REDIRECT
        self.log = settings.MODELYARD_ACCESS_LOG
        self.respond = convert_exception_to_response(self._view_response)

    def _resolve(self, path: str) -> Found | None:
        if "\x00" in path:  # the slow handler's middleware answers it
            return None
        try:
            match = get_resolver().resolve(path)
        except Resolver404:
            return None
        if not self.is_serving(match.func):
            return None
        if len(self.found) >= LIMIT:
            self.found.clear()
        self.found[path] = found = (_direct(match.func), match)
        return found

    def _view_response(self, request: HttpRequest) -> HttpResponseBase:
        view, match = request.lane_found  # type: ignore[attr-defined]
        request.resolver_match = match
        response = view(request, *match.args, **match.kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()  # DRF's Response (errors): rendered as Django's handler would
        return response

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        found = self.found.get(path) or self._resolve(path)
        if found is None:
            return self.fallback(environ, start_response)
        request = WSGIRequest(environ)
        secure = request.is_secure()
        if self.ssl_redirect and not secure:
            return self.fallback(environ, start_response)
        request.lane_found = found  # type: ignore[attr-defined]
        rid = request_id.request_id_for(request.META)
        token, started = request_id.bind(rid), time.perf_counter() if self.log else 0.0
        try:
            response = self.respond(request)
            if self.log:
                request_id.log_access(request, response.status_code, started)
        finally:
            request_id.unbind(token)
            _end_of_request()
        start_response(f"{response.status_code} {response.reason_phrase}",
                       [*response.items(), *self.headers[secure], (request_id.HEADER, rid)])
        return [response.content]
