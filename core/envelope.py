"""One error envelope for every 4xx/5xx: ``{"error": {"code", "message", "field"}}``."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import UNAUTHENTICATED, ModelyardError


def envelope(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _first_error(detail: Any, path: str | None = None) -> tuple[str | None, Any]:
    """Walk DRF's nested detail to the first leaf, keeping the dotted field path."""
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        field = None if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
        return _first_error(value, field)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], path)
    return path, detail


# The database is away (restarting, failing over, connections exhausted) or broke the connection: retryable,
# never a 500. Integrity and programming errors are not these, and stay bugs.
DATABASE_AWAY = (OperationalError, InterfaceError)
DATABASE_AWAY_MESSAGE = "The database is unavailable right now; retry in a moment"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DATABASE_AWAY):
        response = Response(envelope("database_unavailable", DATABASE_AWAY_MESSAGE), status=503)
        response["Retry-After"] = "1"
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response(envelope("too_large", "The request body is larger than allowed"), status=413)
    if isinstance(exc, ModelyardError):
        response = Response(envelope(exc.code, exc.message, exc.field), status=exc.status)
        if exc.status == 503:
            response["Retry-After"] = "1"
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # One body for every way a credential can be wrong: no oracle for which check failed.
        response.data = envelope("not_authenticated", UNAUTHENTICATED)
    elif isinstance(exc, exceptions.ValidationError):
        field, leaf = _first_error(exc.detail)
        code = getattr(leaf, "code", "invalid") or "invalid"
        response.data = envelope(str(code), str(leaf), field)
    else:
        detail = getattr(exc, "detail", str(exc))
        field, leaf = _first_error(detail) if isinstance(detail, dict | list) else (None, detail)
        response.data = envelope(str(getattr(leaf, "code", None) or exc.default_code), str(leaf), field)
    return response


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(envelope(code, message), status=status)


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(400, "bad_request", "The request could not be understood")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(403, "permission_denied", "You do not have permission to do this")


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(404, "not_found", f"No route matches {request.path}")


def handler500(request: HttpRequest) -> JsonResponse:
    return _json_error(500, "server_error", "Internal error; it has been logged")
