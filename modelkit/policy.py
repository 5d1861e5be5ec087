"""The loading rules a deployment chooses, passed to the kit instead of read from settings."""

from dataclasses import dataclass

DEFAULT_SKOPS_TRUSTED = ("sklearn.", "numpy.", "scipy.sparse.")


@dataclass(frozen=True)
class LoadPolicy:
    # Pickle and joblib run code chosen by the file's author when loaded.
    allow_pickle: bool = False
    # skops types (by prefix) that may be loaded; the artifact's own list is never consulted.
    skops_trusted_prefixes: tuple[str, ...] = DEFAULT_SKOPS_TRUSTED
    # onnxruntime threads per session: a web server already runs one request per worker thread.
    threads: int = 1
