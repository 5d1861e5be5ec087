"""A second WSGI handler for the prediction routes, with only the middleware they need.

The predict, invocations and v2 routes authenticate statelessly, use no session, cookie, CSRF token
or message, and count themselves in Prometheus; Django's full middleware stack would cost them more
than a one-row ONNX prediction. Every other path goes through the normal handler unchanged.
"""

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

SERVING_PATH = re.compile(r"^/(v2(/|$)|api/v1/models/[^/]+/(versions|aliases)/[^/]+/(predict|invocations)$)")


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
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = serving if SERVING_PATH.match(environ.get("PATH_INFO", "")) else full
        return handler(environ, start_response)

    return application
