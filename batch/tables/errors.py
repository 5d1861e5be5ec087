class TableError(Exception):
    """A file that cannot be a batch input, with a message for whoever sent it."""

    def __init__(self, message: str, *, code: str = "invalid_input", field: str = "file") -> None:
        super().__init__(message)
        self.message, self.code, self.field = message, code, field
