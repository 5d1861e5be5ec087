"""The serving routes are DRF views, trimmed to what a prediction needs.

Same authentication class, error envelope and schema as every other route; no throttling, content
negotiation, browsable renderer, versioning or metadata on this path, and the permission check
never loads the user row, so a steady-state prediction makes no database query.

DRF's dispatch runs step for step, with its hooks made cheap (measured in docs/performance.md):
parsers, authenticators and the negotiator are made once per view class instead of per request;
the body is parsed by the route's parser without DRF's form handling (``ServingRequest``);
``initial`` does only what this path uses (authentication, then permissions); and a successful
prediction answers with a plain ``HttpResponse`` of orjson bytes (``json_response``), which needs no
finalizing. Errors still take DRF's exception handler, ``finalize_response`` and renderer.
"""

import io
from typing import Any

from django.conf import settings
from django.http import HttpResponse, HttpResponseBase
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import AllowAny
from rest_framework.request import Empty, Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.codecs import CsvTextParser, FirstRenderer, OrjsonParser, OrjsonRenderer, dumps
from core.envelope import exception_handler
from registry.authentication import Caller, HasGrant, TokenAuthentication
from serving import metrics


def json_response(data: Any) -> HttpResponse:
    """A successful answer: orjson bytes in a plain response, which DRF returns as it is."""
    return HttpResponse(dumps(data), content_type="application/json")


class ServingRequest(Request):
    """DRF's Request, parsed by the route's own parser straight from the request body.

    DRF's ``_parse`` also prepares for forms on every request (an empty ``QueryDict`` or
    ``MultiValueDict``, a parse of the content type to decide whether to mirror ``POST``): no serving
    route accepts a form, so that work was pure cost (about 3 us a prediction). Same parsers, same
    errors: an unknown media type is DRF's ``UnsupportedMediaType``, a parse error leaves empty data
    behind as DRF does.
    """

    @property
    def META(self) -> dict[str, Any]:  # noqa: N802 (Django's name)
        return self._request.META  # DRF reaches it through __getattr__ and an exception handler: 0.7 us

    def _load_data_and_files(self) -> None:
        if self._data is not Empty:
            return
        self._files = MultiValueDict()
        try:
            self._data = self._parsed_body()
        except Exception:
            self._data = self._full_data = {}
            raise
        self._full_data = self._data

    def _parsed_body(self) -> Any:
        meta = self._request.META
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if not length:
            return {}
        parser = self.negotiator.select_parser(self, self.parsers)
        if parser is None:
            raise UnsupportedMediaType(self.content_type)
        stream = self._request if not self._request._read_started else io.BytesIO(self._request.body)
        return parser.parse(stream, parser.media_type, self.parser_context)


def predict_body_limit() -> int:
    return settings.MODELYARD_PREDICT_MAX_BODY_BYTES


# Documented by serving/openapi.py (request bodies of three protocols no serializer describes).
@extend_schema(exclude=True)
class ServingView(APIView):
    """Authenticated by the one token class; the caller comes from ``request.auth``, never the user row."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [HasGrant]
    throttle_classes: list[Any] = []
    parser_classes = [OrjsonParser]
    renderer_classes = [OrjsonRenderer]
    content_negotiation_class = FirstRenderer
    metadata_class = None
    versioning_class = None
    body_limit = staticmethod(predict_body_limit)
    # Marks the route for the lean WSGI handler (config/serving_handler.py) and the URL walk.
    serving_route = True

    @property
    def default_response_headers(self) -> dict[str, str]:
        return {}  # no Allow / Vary: one format, one method; each header costs on every answer

    # Stateless, so made once per class (DRF makes each per request).
    @classmethod
    def _shared(cls) -> tuple[list[Any], list[Any], Any, list[Any]]:
        shared = cls.__dict__.get("_instances")
        if shared is None:
            shared = ([parser() for parser in cls.parser_classes], [auth() for auth in cls.authentication_classes],
                      cls.content_negotiation_class(), [permission() for permission in cls.permission_classes])
            cls._instances = shared
        return shared

    @classmethod
    def lane_view(cls, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """What ``as_view()``'s view function does for this class (it takes no init arguments), called
        by the fast lane (config/serving_lane.py) without the two wrappers around it."""
        self = cls()
        self.setup(request, *args, **kwargs)
        return self.dispatch(request, *args, **kwargs)

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> ServingRequest:
        shared = self._shared()
        return ServingRequest(request, parsers=shared[0], authenticators=shared[1], negotiator=shared[2],
                              parser_context={"view": self, "args": args, "kwargs": kwargs})

    def get_parsers(self) -> list[Any]:
        return self._shared()[0]

    def get_authenticators(self) -> list[Any]:
        return self._shared()[1]

    def get_content_negotiator(self) -> Any:
        return self._shared()[2]

    def get_permissions(self) -> list[Any]:
        return self._shared()[3]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """DRF's ``APIView.dispatch`` step for step (wrap the request, ``initial``, the method's handler,
        DRF's ``handle_exception``), with ``finalize_response`` only for DRF's own ``Response`` (the
        errors): a successful answer is a finished ``HttpResponse`` and this view adds no headers."""
        self.args, self.kwargs = args, kwargs
        drf_request = self.request = self.initialize_request(request, *args, **kwargs)
        self.headers = {}
        try:
            self.initial(drf_request, *args, **kwargs)
            method = request.method.lower()
            handler = getattr(self, method, None) if method in self.http_method_names else None
            response = (handler or self.http_method_not_allowed)(drf_request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        if isinstance(response, Response):
            response = self.finalize_response(drf_request, response, *args, **kwargs)
        elif not isinstance(response, HttpResponseBase):  # DRF's own check, in finalize_response
            raise TypeError(f"{type(self).__name__} answered with a {type(response).__name__}, not a response")
        # DRF ties each request into reference cycles (the view holds the request, the request's parser
        # context holds the view and the request itself), which only the garbage collector frees: 14 us
        # of CPU per prediction measured in process. Cut here, everything the request made is freed as
        # it ends. Rendering an error response needs none of these links.
        del self.request
        drf_request.parser_context = None
        return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Who is calling, and may they: no format suffix, version or throttle on this path; the one
        renderer is chosen when an error needs it (``finalize_response``)."""
        self.format_kwarg = None
        self.perform_authentication(request)
        self.check_permissions(request)

    @staticmethod
    def caller(request: Request) -> Caller:
        return request.auth.caller

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        response = super().handle_exception(exc)
        metrics.PREDICTION_ERRORS.labels(_error_code(response)).inc()
        return response


class PublicServingView(ServingView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class CsvServingView(ServingView):
    parser_classes = [OrjsonParser, CsvTextParser]


def _error_code(response: HttpResponseBase) -> str:
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("code"))
    return str(data.get("code")) if isinstance(data, dict) else "error"


def v2_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The Open Inference Protocol defines ``{"error": "<message>"}``; its clients print that string."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and isinstance(response.data.get("error"), dict):
        error = response.data["error"]
        response.data = {"error": error["message"], "code": error["code"], "field": error["field"]}
    return response


class V2View(ServingView):
    def get_exception_handler(self) -> Any:
        return v2_exception_handler


class PublicV2View(V2View):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
