"""What a loaded scikit-learn estimator answers, whichever file format it came from."""

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from modelkit.errors import RuntimeLoadError
from modelkit.policy import LoadPolicy
from modelkit.runtimes.base import Runtime

# Named columns are matched to feature_names_in_ before the batch is built, so the array's
# missing column names carry no risk; the warning would fire on every request.
warnings.filterwarnings("ignore", message="X does not have valid feature names")


_OUTPUTS = {"classifier": ["labels", "probabilities"], "regressor": ["predictions"],
            "neighbors": ["ids", "distances"], "transformer": ["values"]}


def _kind(estimator: Any) -> str:
    if hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
        return "classifier"
    if hasattr(estimator, "predict"):
        return "regressor"
    if hasattr(estimator, "kneighbors"):
        return "neighbors"
    if hasattr(estimator, "transform"):
        return "transformer"
    raise RuntimeLoadError(f"{type(estimator).__name__} has no predict, kneighbors or transform method")


class EstimatorRuntime(Runtime):
    """Base for formats that yield a scikit-learn estimator; subclasses implement ``_load``."""

    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        super().__init__(path, policy)
        self.estimator = self._load(path)
        self.kind = _kind(self.estimator)  # decided once, not on every prediction

    def _load(self, path: Path) -> Any:
        raise NotImplementedError

    def signature(self) -> dict[str, Any]:
        names = getattr(self.estimator, "feature_names_in_", None)
        features = getattr(self.estimator, "n_features_in_", None)
        return {
            "inputs": {"dtype": "float64", "features": int(features) if features is not None else None,
                       "columns": [str(n) for n in names] if names is not None else None},
            "outputs": _OUTPUTS[self.kind],
        }

    def predict(self, batch: np.ndarray) -> dict[str, Any]:
        estimator = self.estimator
        if self.kind == "classifier":
            probabilities = estimator.predict_proba(batch)
            return {"labels": estimator.classes_[np.argmax(probabilities, axis=1)], "probabilities": probabilities}
        if self.kind == "regressor":
            return {"predictions": estimator.predict(batch)}
        if self.kind == "neighbors":
            distances, ids = estimator.kneighbors(batch)
            return {"ids": ids, "distances": distances}
        return {"values": estimator.transform(batch)}
