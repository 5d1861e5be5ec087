"""Typed errors. A refusal from the server carries its envelope: ``{"error": {"code", "message", "field"}}``.

Each class has the exit code the command line uses for it, so scripts can tell causes apart.
"""

from __future__ import annotations

from typing import Any


class ModelyardError(Exception):
    """Base of every error this package raises."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(ModelyardError):
    """Bad input found on this machine, before anything was sent (a missing file, a corrupt model)."""

    exit_code = 2


class ConnectionFailed(ModelyardError):
    """The server could not be reached or did not answer in time."""

    exit_code = 8


class ApiError(ModelyardError):
    """The server refused a request; ``status``, ``code``, ``field`` and ``envelope`` say how."""

    exit_code = 1

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 envelope: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field
        self.envelope = envelope or {"error": {"code": code, "message": message, "field": field}}

    def __str__(self) -> str:
        where = f" (field: {self.field})" if self.field else ""
        return f"{self.message}{where} [{self.status} {self.code}]"


class BadRequest(ApiError):
    exit_code = 2


class AuthenticationError(ApiError):
    exit_code = 3


class PermissionDenied(ApiError):
    exit_code = 3


class NotFound(ApiError):
    exit_code = 4


class Conflict(ApiError):
    exit_code = 5


class ApprovalRequired(Conflict):
    """The alias is protected: ask for a promotion, which someone else approves."""


class PayloadTooLarge(ApiError):
    exit_code = 2


class Throttled(ApiError):
    exit_code = 8

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    exit_code = 8


class VersionFailed(ModelyardError):
    """A version failed validation on the server; ``message`` is the server's reason."""

    exit_code = 6

    def __init__(self, model: str, version: int, reason: str) -> None:
        super().__init__(f"{model} version {version} failed validation: {reason}")
        self.model, self.version, self.reason = model, version, reason


class JobFailed(ModelyardError):
    """A batch job ended failed or cancelled; ``job`` is its last state."""

    exit_code = 7

    def __init__(self, job: dict[str, Any]) -> None:
        reason = job.get("status_message") or "no reason given"
        super().__init__(f"batch job {job.get('id')} {job.get('status')}: {reason}")
        self.job = job


class Timeout(ModelyardError):
    """Waiting for a version or a job took longer than asked."""

    exit_code = 9


_BY_STATUS: dict[int, type[ApiError]] = {400: BadRequest, 401: AuthenticationError, 403: PermissionDenied,
                                         404: NotFound, 409: Conflict, 413: PayloadTooLarge, 429: Throttled}


def error_from_response(status: int, body: Any, retry_after: str | None = None) -> ApiError:
    """The typed error for a refused request; a body that is no envelope still gives a readable message."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code, message, field = str(error.get("code") or "error"), str(error.get("message") or ""), error.get("field")
        envelope = body
    else:
        code, field, envelope = "error", None, None
        message = (error if isinstance(error, str) else str(body)[:500]) or f"HTTP {status}"
    if code == "approval_required":
        return ApprovalRequired(status, code, message, field, envelope)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    if cls is Throttled:
        try:
            wait = float(retry_after) if retry_after else None
        except ValueError:
            wait = None
        return Throttled(status, code, message, field, envelope, retry_after=wait)
    return cls(status, code, message, field, envelope)
