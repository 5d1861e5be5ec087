"""scikit-learn models saved with pickle or joblib.

Loading a pickle runs code chosen by whoever wrote the file, so the deployment must opt in
(MODELYARD_ALLOW_PICKLE) and only trusted publishers may upload such files.
"""

import logging
from pathlib import Path
from typing import Any

import joblib

from modelkit.errors import RuntimeLoadError
from modelkit.redact import redact
from modelkit.runtimes.estimator import EstimatorRuntime

logger = logging.getLogger(__name__)


class PickleRuntime(EstimatorRuntime):
    def _load(self, path: Path) -> Any:
        if not self.policy.allow_pickle:
            raise RuntimeLoadError("Pickle and joblib artifacts are disabled on this deployment")
        try:
            return joblib.load(path)
        except Exception as exc:
            logger.warning("cannot unpickle %s", path, exc_info=True)
            raise RuntimeLoadError(f"Cannot unpickle this model: {redact(str(exc), path)}") from None
