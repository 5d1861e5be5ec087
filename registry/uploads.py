"""Upload handling: stream to a temporary file, hashing and counting on the way."""

import hashlib

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload, TemporaryFileUploadHandler


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
