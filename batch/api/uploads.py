"""The multipart body of a submit, read at once: every way it can be cut short or overlong is a 4xx,
and a refused request's temporary upload is closed (so deleted) before the answer goes out."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework.request import Request

from core.errors import ModelyardError, PayloadTooLarge


def read_body(request: Request) -> None:
    _refuse_oversized(request)
    try:
        _ = request.data
    except Exception as exc:
        discard_uploads(request)
        error = _client_error(exc)
        if error is None:
            raise
        raise error from None
    _refuse_oversized(request)


def discard_uploads(request: Request) -> None:
    # Closing a temporary upload deletes it now, rather than whenever the objects are collected.
    for handler in getattr(request._request, "upload_handlers", []):
        partial = getattr(handler, "file", None)
        if partial is not None:
            partial.close()
    files = getattr(request._request, "_files", None)
    for upload in files.values() if files is not None else []:
        upload.close()


def _client_error(exc: Exception) -> ModelyardError | None:
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ModelyardError(f"Too many form fields or files: {exc}", code="too_many_parts")
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("The form fields are larger than allowed")
    if isinstance(exc, OSError):  # the client went away mid-upload
        return ModelyardError("The upload ended before the whole body arrived", field="file", code="upload_incomplete")
    return None


def _refuse_oversized(request: Request) -> None:
    limit = settings.MODELYARD_MAX_UPLOAD_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_large = getattr(request._request, "modelyard_upload_too_large", False)
    # A little slack over the limit for the multipart envelope around the file itself.
    if too_large or (declared.isdigit() and int(declared) > limit + 64 * 1024):
        discard_uploads(request)
        raise PayloadTooLarge(f"The upload exceeds the limit of {limit} bytes", field="file")
