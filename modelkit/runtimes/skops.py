"""scikit-learn models saved with skops: loaded only when every type is on the server's list.

The archive is sized up from its own records first (entry count, directory size, unpacked total:
:func:`modelkit.formats.zip_check`), so skops never parses the directory of, or unpacks, a zip bomb.
"""

import logging
from pathlib import Path
from typing import Any

import skops.io as sio

from modelkit.errors import RuntimeLoadError
from modelkit.redact import redact
from modelkit.runtimes.base import zip_archive_check
from modelkit.runtimes.estimator import EstimatorRuntime

logger = logging.getLogger(__name__)


class SkopsRuntime(EstimatorRuntime):
    def _load(self, path: Path) -> Any:
        zip_archive_check(path, "skops file")
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:  # a corrupt archive raises zip or json errors
            logger.warning("not a readable skops file: %s", path, exc_info=True)
            raise RuntimeLoadError(f"Not a readable skops file: {redact(str(exc), path)}") from None
        # The trust decision is the server's (settings), never the artifact's own list.
        refused = [t for t in untrusted if not t.startswith(self.policy.skops_trusted_prefixes)]
        if refused:
            raise RuntimeLoadError(
                "The skops file contains types this server does not trust: " + ", ".join(sorted(refused))
            )
        try:
            return sio.load(path, trusted=untrusted)
        except Exception as exc:
            logger.warning("skops cannot load %s", path, exc_info=True)
            raise RuntimeLoadError(f"skops cannot load this model: {redact(str(exc), path)}") from None
