"""What a loaded scikit-learn estimator answers, whichever file format it came from."""

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from serving.runtimes.base import Runtime, RuntimeLoadError

# Named columns are matched to feature_names_in_ before the batch is built, so the array's
# missing column names carry no risk; the warning would fire on every request.
warnings.filterwarnings("ignore", message="X does not have valid feature names")


class EstimatorRuntime(Runtime):
    """Base for formats that yield a scikit-learn estimator; subclasses implement ``_load``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.estimator = self._load(path)
        if not any(hasattr(self.estimator, name) for name in ("predict", "kneighbors", "transform")):
            raise RuntimeLoadError(f"{type(self.estimator).__name__} has no predict, kneighbors or transform method")

    def _load(self, path: Path) -> Any:
        raise NotImplementedError

    def signature(self) -> dict[str, Any]:
        names = getattr(self.estimator, "feature_names_in_", None)
        features = getattr(self.estimator, "n_features_in_", None)
        return {
            "inputs": {"dtype": "float64", "features": int(features) if features is not None else None,
                       "columns": [str(n) for n in names] if names is not None else None},
            "outputs": self._output_names(),
        }

    def _output_names(self) -> list[str]:
        if hasattr(self.estimator, "predict_proba") and hasattr(self.estimator, "classes_"):
            return ["labels", "probabilities"]
        if hasattr(self.estimator, "predict"):
            return ["predictions"]
        if hasattr(self.estimator, "kneighbors"):
            return ["ids", "distances"]
        return ["values"]

    def predict(self, batch: np.ndarray) -> dict[str, Any]:
        estimator = self.estimator
        if hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
            probabilities = estimator.predict_proba(batch)
            labels = estimator.classes_[np.argmax(probabilities, axis=1)]
            return {"labels": labels, "probabilities": probabilities}
        if hasattr(estimator, "predict"):
            return {"predictions": estimator.predict(batch)}
        if hasattr(estimator, "kneighbors"):
            distances, ids = estimator.kneighbors(batch)
            return {"ids": ids, "distances": distances}
        return {"values": estimator.transform(batch)}
