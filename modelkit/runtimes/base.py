"""The one interface every model format implements."""

import logging
import zipfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from modelkit.errors import RuntimeLoadError
from modelkit.formats import ArchiveTooLarge, zip_check
from modelkit.policy import LoadPolicy
from modelkit.redact import redact

logger = logging.getLogger(__name__)


class Runtime(ABC):
    """A loaded model. ``memory_bytes`` is what a caller's cache budget counts for it.

    ``interruptible`` runtimes take ``predict(batch, timeout=...)`` and stop the run at the deadline;
    the others cannot be stopped from outside, so callers bound them another way (see serving.engine).
    """

    interruptible = False

    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        self.path = path
        self.policy = policy
        self.memory_bytes = path.stat().st_size

    @abstractmethod
    def signature(self) -> dict[str, Any]:
        """The input/output schema read from the artifact itself (see modelkit.signatures)."""

    @abstractmethod
    def predict(self, batch: np.ndarray) -> dict[str, Any]:
        """Run a 2-D batch; return named outputs as numpy arrays or lists, one entry per row."""


def zip_archive_check(path: Path, what: str) -> None:
    """Size a zip archive up from its own records before any loader opens it (no zip bomb is parsed or
    unpacked); a damaged or oversized one is a RuntimeLoadError naming ``what`` (skops, TorchScript)."""
    try:
        with path.open("rb") as handle:
            zip_check(handle)
    except ArchiveTooLarge as exc:
        raise RuntimeLoadError(exc.message, code=exc.code) from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        logger.warning("not a readable %s: %s", what, path, exc_info=True)
        raise RuntimeLoadError(f"Not a readable {what}: {redact(str(exc), path)}") from None
