"""Storage backends for tests: an object store without local paths (as S3Storage), and one that is down."""

import os

from django.core.files.storage import InMemoryStorage
from django.utils._os import safe_join


class ObjectStorage(InMemoryStorage):
    """Like S3Storage: no local path, so artifacts are downloaded to the local cache."""

    def path(self, name: str) -> str:
        raise NotImplementedError("This backend doesn't support absolute paths.")

    def _relative_path(self, name: str) -> str:  # InMemoryStorage's own bookkeeping uses path()
        return os.path.relpath(safe_join(self.location, name), self.location)


class ReadTimeoutError(Exception):
    """What botocore raises when the endpoint stops answering: an Exception, not an OSError."""


class UnreachableStorage(ObjectStorage):
    """An object store that stopped answering."""

    def _open(self, name: str, mode: str = "rb"):  # type: ignore[no-untyped-def]
        raise ReadTimeoutError(f'Read timeout on endpoint URL: "http://s3.internal/artifacts/{name}"')

    def _save(self, name: str, content):  # type: ignore[no-untyped-def]
        raise ReadTimeoutError(f'Read timeout on endpoint URL: "http://s3.internal/artifacts/{name}"')

    def exists(self, name: str) -> bool:
        raise ReadTimeoutError("Read timeout on endpoint URL")

    def delete(self, name: str) -> None:
        raise ReadTimeoutError("Read timeout on endpoint URL")
