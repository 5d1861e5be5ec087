"""What the kit raises. Callers above turn these into their own errors (an HTTP 400, a failed version).

Each carries a message meant for the person who sent the model or the input, a machine-readable
``code`` and the request ``field`` it is about, so no caller has to guess.
"""


class KitError(Exception):
    code = "invalid"
    field: str | None = None

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if field:
            self.field = field


class InputError(KitError):
    """A batch that does not fit the signature: the caller's to fix."""

    code = "invalid_input"
    field = "inputs"


class SignatureError(KitError):
    """A declared signature that is malformed."""

    code = "invalid_signature"
    field = "signature"


class RuntimeLoadError(KitError):
    """The artifact cannot be loaded; the message is meant for the person who uploaded it."""

    code = "load_failed"


class DeadlineExceeded(KitError):
    """The model was stopped at its time limit."""

    code = "model_timeout"
