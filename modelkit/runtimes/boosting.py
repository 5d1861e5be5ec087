"""Gradient-boosted trees in their own safe formats: XGBoost (JSON / UBJSON) and LightGBM (text).

Both files are data (trees and parameters), loaded without running code of the file's author. The
framework is imported when such a model is first loaded: a web process serving the ONNX conversion
never needs it. Classifiers answer ``labels`` and ``probabilities``, regressors ``predictions``,
the vocabulary of every other format; labels are the class indexes the framework trained on.
"""

import importlib
import json
import logging
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from modelkit.errors import RuntimeLoadError
from modelkit.formats import FRAMEWORKS
from modelkit.onnx_naming import standard_outputs
from modelkit.policy import LoadPolicy
from modelkit.redact import redact
from modelkit.runtimes.base import Runtime

logger = logging.getLogger(__name__)

_CLASSIFIER_OUTPUTS = ["labels", "probabilities"]
_XGBOOST_CLASSIFIERS = {"binary:logistic", "multi:softprob"}
_LIGHTGBM_CLASSIFIERS = {"binary", "multiclass", "multiclassova"}
# LightGBM names unnamed features Column_0, Column_1, ...: those are no column names.
_LIGHTGBM_DEFAULT_NAME = re.compile(r"Column_\d+")
_HEADER_LINES = 200


def framework(fmt: str) -> ModuleType:
    """The framework a format needs, or a load error naming what to install on this worker."""
    module, requirements = FRAMEWORKS[fmt]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise RuntimeLoadError(f"This worker cannot load {fmt} models: the Python package {module!r} is not "
                               f"installed (pip install -r {requirements})", code="framework_missing") from None


def _first_line(exc: Exception) -> str:
    """XGBoost appends a native stack trace (library paths, addresses) to its messages."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0][:500] if lines else type(exc).__name__


def _probabilities(positive_or_all: np.ndarray) -> np.ndarray:
    if positive_or_all.ndim == 1:  # binary: the framework answers P(class 1)
        return np.column_stack([1.0 - positive_or_all, positive_or_all])
    return positive_or_all


def classified(raw: np.ndarray) -> dict[str, Any]:
    probabilities = _probabilities(raw)
    return {"labels": np.argmax(probabilities, axis=1).astype(np.int64), "probabilities": probabilities}


class BoostingRuntime(Runtime):
    framework = ""
    converter = "onnxmltools"
    dtype = "float64"
    classifier = False
    columns: list[str] | None = None
    features = 0
    booster: Any = None

    def signature(self) -> dict[str, Any]:
        return {"inputs": {"dtype": self.dtype, "features": self.features, "columns": self.columns},
                "outputs": _CLASSIFIER_OUTPUTS if self.classifier else ["predictions"]}

    def _raw(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _convert(self, onnxmltools: ModuleType, initial_types: list[Any]) -> Any:
        raise NotImplementedError

    def predict(self, batch: np.ndarray) -> dict[str, Any]:
        raw = np.asarray(self._raw(batch))
        if self.classifier:
            return classified(raw)
        return {"predictions": raw.reshape(len(batch)) if raw.size == len(batch) else raw}

    def onnx_model(self, features: int) -> bytes:
        """The onnxmltools conversion, outputs named as this runtime names them."""
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType

        model = self._convert(onnxmltools, [("input", FloatTensorType([None, features]))])
        return standard_outputs(model, self.signature()["outputs"])


class XGBoostRuntime(BoostingRuntime):
    framework = "XGBoost"
    dtype = "float32"  # XGBoost compares features in float32

    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        super().__init__(path, policy)
        xgboost = framework("xgboost")
        try:
            self.booster = xgboost.Booster(params={"nthread": policy.threads}, model_file=str(path))
            learner = json.loads(self.booster.save_config())["learner"]
        except Exception as exc:  # XGBoostError for a corrupt file, and what else its parser raises
            logger.warning("xgboost cannot load %s", path, exc_info=True)
            raise RuntimeLoadError(f"XGBoost cannot load this model: {redact(_first_line(exc), path)}") from None
        objective = learner["objective"]["name"]
        if objective == "multi:softmax":
            raise RuntimeLoadError("XGBoost models with objective multi:softmax answer no probabilities: train "
                                   "with multi:softprob (XGBClassifier's default)")
        self.classifier = objective in _XGBOOST_CLASSIFIERS
        self.features = self.booster.num_features()
        self.columns = list(self.booster.feature_names) if self.booster.feature_names else None

    def _raw(self, batch: np.ndarray) -> np.ndarray:
        return self.booster.inplace_predict(batch, validate_features=False)

    def _convert(self, onnxmltools: ModuleType, initial_types: list[Any]) -> Any:
        return onnxmltools.convert_xgboost(self.booster, initial_types=initial_types)


def _lightgbm_header(path: Path) -> tuple[dict[str, str], int]:
    """The text model's header (key=value lines before the first tree) and where the trees start."""
    header: dict[str, str] = {}
    offset = 0
    with path.open("rb") as handle:
        for _, line in zip(range(_HEADER_LINES), handle, strict=False):
            if line.startswith(b"Tree="):
                return header, offset
            offset += len(line)
            key, _, value = line.decode("utf-8", errors="replace").rstrip("\r\n").partition("=")
            header[key] = value
    raise RuntimeLoadError("LightGBM cannot load this model: no tree follows the header")


def _lightgbm_check(path: Path) -> dict[str, str]:
    """Walk the trees by the sizes the header declares before LightGBM reads them: on a truncated or
    spliced file LightGBM's parser ends the process (std::terminate) instead of raising."""
    header, offset = _lightgbm_header(path)
    try:
        sizes = [int(size) for size in header["tree_sizes"].split()]
    except (KeyError, ValueError):
        raise RuntimeLoadError("LightGBM cannot load this model: its header has no valid tree_sizes "
                               "(save it with LightGBM 3 or later)") from None
    with path.open("rb") as handle:
        for number, size in enumerate(sizes):
            handle.seek(offset)
            if not handle.read(5) == b"Tree=":
                raise RuntimeLoadError(f"LightGBM cannot load this model: tree {number} is not where the "
                                       "header says (the file is truncated or corrupt)")
            offset += size
        handle.seek(offset)
        if not handle.read(12) == b"end of trees":
            raise RuntimeLoadError("LightGBM cannot load this model: the trees do not end where the header says "
                                   "(the file is truncated or corrupt)")
    return header


class LightGBMRuntime(BoostingRuntime):
    framework = "LightGBM"

    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        super().__init__(path, policy)
        lightgbm = framework("lightgbm")
        header = _lightgbm_check(path)
        try:
            self.booster = lightgbm.Booster(model_file=str(path), params={"num_threads": policy.threads})
        except Exception as exc:  # LightGBMError for a corrupt file
            logger.warning("lightgbm cannot load %s", path, exc_info=True)
            raise RuntimeLoadError(f"LightGBM cannot load this model: {redact(_first_line(exc), path)}") from None
        objective = header.get("objective", "").split(" ")[0]
        self.classifier = objective in _LIGHTGBM_CLASSIFIERS
        self.features = self.booster.num_feature()
        names = self.booster.feature_name()
        self.columns = None if all(_LIGHTGBM_DEFAULT_NAME.fullmatch(n) for n in names) else list(names)
        self.threads = policy.threads

    def _raw(self, batch: np.ndarray) -> np.ndarray:
        return self.booster.predict(batch, num_threads=self.threads)

    def _convert(self, onnxmltools: ModuleType, initial_types: list[Any]) -> Any:
        return onnxmltools.convert_lightgbm(self.booster, initial_types=initial_types, zipmap=False)
