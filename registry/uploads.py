"""Upload handling: stream to a temporary file, hashing and counting on the way."""

import errno
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest

from core.errors import InsufficientStorage, ModelyardError, PayloadTooLarge


class HashedUploadedFile(TemporaryUploadedFile):
    sha256: str = ""


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Writes the body to a temp file while computing sha256 and size in the same pass.

    Past ``MODELYARD_MAX_UPLOAD_BYTES`` it stops reading and flags the request, so that the view
    answers 413 and the partial temp file is closed (and so removed) by Django.
    """

    def new_file(self, *args: object, **kwargs: object) -> None:
        # Skip the parent's new_file: it would open a second temp file that is never used.
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = HashedUploadedFile(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)
        self._hasher = hashlib.sha256()
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._received += len(raw_data)
        if self._received > settings.MODELYARD_MAX_UPLOAD_BYTES:
            self.request.modelyard_upload_too_large = True
            self.file.close()
            raise StopUpload(connection_reset=True)
        self._hasher.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> HashedUploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self._hasher.hexdigest()
        return self.file


def uploaded_file_from_bytes(name: str, data: bytes) -> HashedUploadedFile:
    """The same object the HTTP upload path produces, for the demo loader, the CLI and tests."""
    upload = HashedUploadedFile(name, "application/octet-stream", len(data), None)
    upload.write(data)
    upload.seek(0)
    upload.sha256 = hashlib.sha256(data).hexdigest()
    return upload


# --- Reading a multipart body: one set of rules for the API's uploads, batch submits and the console -----------

def body_read(http: HttpRequest, parse: Callable[[], object]) -> None:
    """Parse the body now (``parse``: DRF's ``request.data`` or Django's ``request.FILES``), turning every way
    it can be cut short or overlong into a 4xx; a refused request's temporary upload is deleted at once."""
    _refuse_oversized(http)
    try:
        parse()
    except Exception as exc:
        uploads_discard(http)
        error = _client_error(exc)
        if error is None:
            raise
        raise error from None
    _refuse_oversized(http)


def uploads_discard(http: HttpRequest) -> None:
    # Closing a temporary upload deletes it now, rather than whenever the objects are collected.
    for handler in getattr(http, "upload_handlers", []):
        partial = getattr(handler, "file", None)
        if partial is not None:
            partial.close()
    files = getattr(http, "_files", None)
    for upload in files.values() if files is not None else []:
        upload.close()


def _client_error(exc: Exception) -> ModelyardError | None:
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ModelyardError(f"Too many form fields or files: {exc}", code="too_many_parts")
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("The form fields are larger than allowed")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):  # our disk, not the client
        return InsufficientStorage("The server has no room for this upload right now; nothing was kept. "
                                   "Retry later", field="file", code="storage_full")
    if isinstance(exc, OSError):  # the client went away mid-upload (gunicorn raises an IOError subclass)
        return ModelyardError("The upload ended before the whole body arrived", field="file",
                              code="upload_incomplete")
    return None


def _refuse_oversized(http: HttpRequest) -> None:
    limit = settings.MODELYARD_MAX_UPLOAD_BYTES
    declared = http.META.get("CONTENT_LENGTH") or "0"
    too_large = getattr(http, "modelyard_upload_too_large", False)
    # A little slack over the limit for the multipart envelope around the file itself.
    if too_large or (declared.isdigit() and int(declared) > limit + 64 * 1024):
        uploads_discard(http)
        raise PayloadTooLarge(f"The upload exceeds the limit of {limit} bytes", field="file")
