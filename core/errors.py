"""Domain errors raised by services and selectors; the API turns each into the error envelope."""

# One message for every way a credential can be wrong: no oracle for which check failed.
UNAUTHENTICATED = "Authentication credentials were not provided or are invalid"


class ModelyardError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(ModelyardError):
    status = 404
    code = "not_found"


class Forbidden(ModelyardError):
    status = 403
    code = "permission_denied"


class Conflict(ModelyardError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ModelyardError):
    status = 413
    code = "too_large"


class Unavailable(ModelyardError):
    status = 503
    code = "unavailable"


class ModelFailed(ModelyardError):
    """The model raised on input that passed the signature checks: our problem, not the caller's."""

    status = 500
    code = "model_error"


class ModelTimeout(ModelyardError):
    status = 504
    code = "model_timeout"


class MethodNotAllowed(ModelyardError):
    status = 405
    code = "method_not_allowed"


class UnsupportedMediaType(ModelyardError):
    status = 415
    code = "unsupported_media_type"


class InsufficientStorage(ModelyardError):
    """A team's storage quota is full: 507, with what is used and how to free it."""

    status = 507
    code = "quota_exceeded"
