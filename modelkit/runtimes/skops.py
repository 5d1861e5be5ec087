"""scikit-learn models saved with skops: loaded only when every type is on the server's list."""

from pathlib import Path
from typing import Any

import skops.io as sio

from modelkit.errors import RuntimeLoadError
from modelkit.runtimes.estimator import EstimatorRuntime


class SkopsRuntime(EstimatorRuntime):
    def _load(self, path: Path) -> Any:
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:  # a corrupt archive raises zip or json errors
            raise RuntimeLoadError(f"Not a readable skops file: {exc}") from None
        # The trust decision is the server's (settings), never the artifact's own list.
        refused = [t for t in untrusted if not t.startswith(self.policy.skops_trusted_prefixes)]
        if refused:
            raise RuntimeLoadError(
                "The skops file contains types this server does not trust: " + ", ".join(sorted(refused))
            )
        try:
            return sio.load(path, trusted=untrusted)
        except Exception as exc:
            raise RuntimeLoadError(f"skops cannot load this model: {exc}") from None
