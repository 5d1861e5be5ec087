"""A second WSGI handler for the prediction routes, with only the middleware they need.

The predict, invocations and v2 routes authenticate statelessly, use no session, cookie, CSRF token
or message, and count themselves in Prometheus; Django's full middleware stack would cost them more
than a one-row ONNX prediction. Every other path goes through the normal handler unchanged.
"""

import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.urls import URLResolver, get_resolver
from django.utils.module_loading import import_string

from config.serving_lane import FastLane

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def is_serving_view(view: Callable[..., Any]) -> bool:
    return getattr(getattr(view, "view_class", None), "serving_route", False)


def _serving_patterns(patterns: list[Any], prefix: str) -> Iterable[str]:
    for pattern in patterns:
        regex = pattern.pattern.regex.pattern.removeprefix("^")
        if isinstance(pattern, URLResolver):
            yield from _serving_patterns(pattern.url_patterns, prefix + regex)
        elif is_serving_view(pattern.callback):
            yield prefix + regex


@cache
def serving_path() -> re.Pattern[str]:
    """The paths of views marked ``serving_route``, read from the URL conf: no second copy of the routes."""
    parts = [_NAMED_GROUP.sub("(?:", part) for part in _serving_patterns(get_resolver().url_patterns, "")]
    return re.compile("^/(?:" + "|".join(parts) + ")")


class ServingHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list = []
        self._template_response_middleware: list = []
        self._exception_middleware: list = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.SERVING_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler


def dispatch(full: WSGIHandler, serving: WSGIHandler) -> Callable[..., Iterable[bytes]]:
    pattern = serving_path()

    lane = FastLane(serving, is_serving_view)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = lane if pattern.match(environ.get("PATH_INFO", "")) else full
        return handler(environ, start_response)

    return application
