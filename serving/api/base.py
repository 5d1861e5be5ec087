"""The serving routes are DRF views, trimmed to what a prediction needs.

Same authentication class, error envelope and schema as every other route; no throttling, content
negotiation, browsable renderer, versioning or metadata on this path, and the permission check
never loads the user row, so a steady-state prediction makes no database query.
"""

from typing import Any

from django.conf import settings
from django.http import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.codecs import CsvTextParser, FirstRenderer, OrjsonParser, OrjsonRenderer
from core.envelope import exception_handler
from registry.authentication import Caller, HasGrant, TokenAuthentication
from serving import metrics


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
