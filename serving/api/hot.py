"""The serving hot path: plain Django views, no DRF, no database query in steady state.

Each view states its permission through ``endpoint(role=...)``; the URL walk test checks that
none answers an anonymous caller unless it is public.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from core.codecs import body_limit, dumps
from core.envelope import envelope
from core.errors import MethodNotAllowed, ModelyardError, PayloadTooLarge, UnsupportedMediaType
from serving import metrics
from serving.access import Caller, authenticate

View = Callable[..., HttpResponse]


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(dumps(data), status=status, content_type="application/json")


def error_response(exc: ModelyardError, *, v2: bool = False) -> HttpResponse:
    # The Open Inference Protocol defines {"error": "<message>"}; its clients print that string.
    body = {"error": exc.message, "code": exc.code, "field": exc.field} if v2 else envelope(
        exc.code, exc.message, exc.field)
    response = json_response(body, exc.status)
    if exc.status == 503:
        response["Retry-After"] = "1"
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ModelyardError(f"Malformed JSON: {exc}", code="parse_error") from None


def read_body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise PayloadTooLarge(f"The request body is larger than {body_limit()} bytes") from None


def read_json(request: HttpRequest) -> Any:
    if request.content_type != "application/json":
        raise UnsupportedMediaType(f"Unsupported media type {request.content_type!r}; send application/json")
    return parse_json(read_body(request))


def endpoint(*, methods: tuple[str, ...], public: bool = False, v2: bool = False) -> Callable[[View], View]:
    """Authenticate (unless public), enforce the method, and turn domain errors into the envelope."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise MethodNotAllowed(f"Method {request.method} not allowed")
                caller: Caller | None = None if public else authenticate(request)
                return view(request, caller, **kwargs)
            except ModelyardError as exc:
                metrics.PREDICTION_ERRORS.labels(exc.code).inc()
                return error_response(exc, v2=v2)

        wrapper.public = public  # type: ignore[attr-defined]
        return wrapper

    return decorate
