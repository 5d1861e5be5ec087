"""What every console view shares: sign-in required, the API's errors rendered as pages, form errors by field.

Views parse, authorize through the registry's selectors (``registry.permissions``: outsiders 404, too low a role
403, exactly as the API), call one service and render. Nothing here decides who may do what.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render, resolve_url
from rest_framework import serializers

from core.client_ip import client_ip
from core.envelope import DATABASE_AWAY, DATABASE_AWAY_MESSAGE, envelope
from core.errors import ModelyardError, Unavailable

View = Callable[..., HttpResponse]
__all__ = ["FormErrors", "client_ip", "console_view", "form_data", "wants_json"]


class FormErrors(Exception):
    """A form to show again, with one message next to each field that was refused."""

    def __init__(self, errors: dict[str, str], status: int = 400, code: str = "invalid") -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status
        self.code = code

    @classmethod
    def from_service(cls, exc: ModelyardError) -> "FormErrors":
        return cls({exc.field or "form": exc.message}, status=exc.status, code=exc.code)


def wants_json(request: HttpRequest) -> bool:
    """Scripts of the console (upload progress, try-it) ask for JSON; pages and htmx get HTML."""
    return "application/json" in request.headers.get("Accept", "")


def console_view(view: View) -> View:
    """Sign-in required (anonymous: to the sign-in page); a refusal becomes a page with the API's status."""

    signed_in = login_required(view)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if not request.user.is_authenticated and (request.htmx or wants_json(request)):
                return _signed_out(request)
            return signed_in(request, *args, **kwargs)
        except ModelyardError as exc:
            return error_page(request, exc)
        except DATABASE_AWAY:  # a retryable 503 page, as the API answers, never a 500
            # The page must not touch the session or the user again (each would query the absent database).
            request.user = AnonymousUser()
            return error_page(request, Unavailable(DATABASE_AWAY_MESSAGE, code="database_unavailable"))

    return wrapped


def _signed_out(request: HttpRequest) -> HttpResponse:
    """A poll or a script whose session ended: htmx goes to the sign-in page, scripts get a 401 to act on
    (never the sign-in page's HTML swapped into a table)."""
    if request.htmx:
        response = HttpResponse(status=401)
        response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)  # htmx follows it before any swap
        return response
    return JsonResponse(envelope("unauthenticated", "Your session ended: sign in again"), status=401)


def error_page(request: HttpRequest, exc: ModelyardError) -> HttpResponse:
    if wants_json(request):
        response: HttpResponse = JsonResponse(envelope(exc.code, exc.message, exc.field), status=exc.status)
    else:
        response = render(request, "console/error.html", {"error": exc}, status=exc.status)
    if exc.status == 503:
        response["Retry-After"] = "5"
    return response


def form_data(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict[str, Any]:
    """The API's own input rules for a console form: a refusal is a message per field, not a second copy."""
    serializer = serializer_class(data=data, **kwargs)
    if not serializer.is_valid():
        raise FormErrors({field: _first(messages) for field, messages in serializer.errors.items()})
    return dict(serializer.validated_data)


def _first(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_first(value)}" for key, value in messages.items())
    if isinstance(messages, list) and messages:
        return _first(messages[0]) if not isinstance(messages[0], str) else str(messages[0])
    return str(messages)
