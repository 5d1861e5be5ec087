"""ONNX models through onnxruntime: safe to load anywhere, no code runs on load.

A model whose tensors live in external data files is refused before onnxruntime opens it (it would
read them from the artifact's folder). Error text shown to people has server paths replaced; the log
keeps it whole.
"""

import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from modelkit.deadline import watchdog
from modelkit.errors import DeadlineExceeded, RuntimeLoadError
from modelkit.onnx_check import NotProtobuf, external_data_message, onnx_external_tensor
from modelkit.policy import LoadPolicy
from modelkit.redact import redact
from modelkit.runtimes.base import Runtime

logger = logging.getLogger(__name__)

_DTYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int64)": "int64", "tensor(int32)": "int32"}
# skl2onnx and most exporters name classifier outputs like this; the API speaks one vocabulary.
_OUTPUT_NAMES = {"label": "labels", "output_label": "labels", "probabilities": "probabilities",
                 "output_probability": "probabilities"}
# skl2onnx's names for regressors and neighbour models, mapped to the scikit-learn runtime's vocabulary
# so a converted version answers exactly like its original.
_SKL2ONNX_NAMES = {**_OUTPUT_NAMES, "variable": "predictions", "index": "ids", "distance": "distances"}


class OnnxRuntime(Runtime):
    interruptible = True

    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        super().__init__(path, policy)
        _refuse_external_data(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = policy.threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad graphs
            logger.warning("onnxruntime cannot load %s", path, exc_info=True)
            raise RuntimeLoadError(f"onnxruntime cannot load this model: {redact(str(exc), path)}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 2:
            raise RuntimeLoadError("Modelyard serves ONNX models with exactly one 2-D tensor input (rows x features)")
        self.input = inputs[0]
        if self.input.type not in _DTYPES:
            raise RuntimeLoadError(f"Unsupported ONNX input type {self.input.type}")
        self.dtype = _DTYPES[self.input.type]
        self.output_names = [output.name for output in self.session.get_outputs()]
        from_sklearn = self.session.get_modelmeta().producer_name == "skl2onnx"
        self.renames = _SKL2ONNX_NAMES if from_sklearn else _OUTPUT_NAMES

    def signature(self) -> dict[str, Any]:
        features = self.input.shape[1]
        return {
            "inputs": {"dtype": self.dtype, "features": features if isinstance(features, int) else None,
                       "columns": None},
            "outputs": [self.renames.get(name, name) for name in self.output_names],
        }

    def predict(self, batch: np.ndarray, timeout: float | None = None) -> dict[str, Any]:
        """With a timeout, the run is stopped (not abandoned) once it passes it: DeadlineExceeded."""
        feed = {self.input.name: batch.astype(self.dtype, copy=False)}
        if not timeout:
            try:
                results = self.session.run(None, feed)
            except Exception as exc:  # same type, message without server paths; the cause keeps the original
                raise _redacted(exc, self.path) from exc
        else:
            results = self._run_with_deadline(feed, timeout)
        outputs: dict[str, Any] = {}
        for name, value in zip(self.output_names, results, strict=True):
            if isinstance(value, list):  # ZipMap: a list of {class: probability} maps
                value = [{str(k): float(v) for k, v in row.items()} for row in value]
            name = self.renames.get(name, name)
            if name == "predictions" and value.ndim == 2 and value.shape[1] == 1:
                value = value[:, 0]  # scikit-learn returns single-target predictions as a vector
            outputs[name] = value
        return outputs

    def _run_with_deadline(self, feed: dict[str, np.ndarray], timeout: float) -> list[Any]:
        options = ort.RunOptions()
        options.log_severity_level = 4  # a stopped run is reported as DeadlineExceeded, not logged as an error
        ticket = watchdog.arm(timeout, options)
        try:
            return self.session.run(None, feed, options)
        except Exception as exc:
            if options.terminate:
                raise DeadlineExceeded(f"The model did not answer within {timeout:g} s and was stopped") from None
            raise _redacted(exc, self.path) from exc
        finally:
            watchdog.disarm(ticket)


def _refuse_external_data(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            tensor = onnx_external_tensor(handle)
    except NotProtobuf as exc:
        raise RuntimeLoadError(f"onnxruntime cannot load this model: not a well-formed ONNX file ({exc})") from None
    except OSError as exc:
        logger.warning("cannot read %s", path, exc_info=True)
        raise RuntimeLoadError(f"The model file cannot be read: {redact(str(exc), path)}") from None
    if tensor is not None:
        raise RuntimeLoadError(external_data_message(tensor), code="external_data")


def _redacted(exc: Exception, path: Path) -> Exception:
    message = redact(str(exc), path)
    try:
        return type(exc)(message)
    except Exception:  # an exception type that cannot be built from a message
        return RuntimeError(f"{type(exc).__name__}: {message}")
