"""The one interface every model format implements."""

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np


class RuntimeLoadError(Exception):
    """The artifact cannot be loaded; the message is meant for the person who uploaded it."""


class Runtime(ABC):
    format: str = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.memory_bytes = path.stat().st_size

    @abstractmethod
    def signature(self) -> dict[str, Any]:
        """The input/output schema read from the artifact itself (see registry.signatures)."""

    @abstractmethod
    def predict(self, batch: np.ndarray) -> dict[str, Any]:
        """Run a 2-D batch; return named outputs as numpy arrays or lists, one entry per row."""
