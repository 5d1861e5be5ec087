"""Python client for Modelyard: ``Client(url, token=...)``; the ``modelyard`` command line is modelyard.cli."""

__version__ = "0.1.0"

from modelyard.batch import BatchJob  # noqa: E402
from modelyard.client import Client  # noqa: E402
from modelyard.errors import (  # noqa: E402
    ApiError,
    ApprovalRequired,
    AuthenticationError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    JobFailed,
    ModelyardError,
    NotFound,
    PermissionDenied,
    ServerError,
    Throttled,
    Timeout,
    UsageError,
    VersionFailed,
)
from modelyard.predictions import ModelRef, Prediction  # noqa: E402
from modelyard.registry import Version  # noqa: E402

__all__ = ["ApiError", "ApprovalRequired", "AuthenticationError", "BadRequest", "BatchJob", "Client", "Conflict",
           "ConnectionFailed", "JobFailed", "ModelRef", "ModelyardError", "NotFound", "PermissionDenied",
           "Prediction", "ServerError", "Throttled", "Timeout", "UsageError", "Version", "VersionFailed"]
