"""The multipart body of a submit, read at once (registry.uploads' rules, shared with version uploads)."""

from rest_framework.request import Request

from registry.uploads import body_read, uploads_discard


def read_body(request: Request) -> None:
    body_read(request._request, lambda: request.data)


def discard_uploads(request: Request) -> None:
    uploads_discard(request._request)
