"""The one interface every model format implements."""

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from modelkit.policy import LoadPolicy


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
