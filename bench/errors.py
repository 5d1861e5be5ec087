class BenchError(Exception):
    """A reason the benchmark cannot go on, printed as is (no traceback): the message says what to do."""
