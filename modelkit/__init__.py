"""Django-free model code: formats, signatures, input checks, runtimes and the ONNX conversion.

Below both apps: ``registry`` (validation), ``serving`` (the web hot path), the batch workers and the
client import it; it imports none of them, nor Django. What a deployment decides (pickle allowed,
trusted skops types, threads per model) arrives as a :class:`LoadPolicy`, never from settings.
"""

from modelkit.errors import DeadlineExceeded, InputError, KitError, RuntimeLoadError, SignatureError
from modelkit.policy import LoadPolicy

__all__ = ["DeadlineExceeded", "InputError", "KitError", "LoadPolicy", "RuntimeLoadError", "SignatureError"]
