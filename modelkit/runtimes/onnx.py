"""ONNX models through onnxruntime: safe to load anywhere, no code runs on load."""

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from modelkit.errors import RuntimeLoadError
from modelkit.policy import LoadPolicy
from modelkit.runtimes.base import Runtime

_DTYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int64)": "int64", "tensor(int32)": "int32"}
# skl2onnx and most exporters name classifier outputs like this; the API speaks one vocabulary.
_OUTPUT_NAMES = {"label": "labels", "output_label": "labels", "probabilities": "probabilities",
                 "output_probability": "probabilities"}
# skl2onnx's names for regressors and neighbour models, mapped to the scikit-learn runtime's vocabulary
# so a converted version answers exactly like its original.
_SKL2ONNX_NAMES = {**_OUTPUT_NAMES, "variable": "predictions", "index": "ids", "distance": "distances"}


class OnnxRuntime(Runtime):
    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        super().__init__(path, policy)
        options = ort.SessionOptions()
        options.intra_op_num_threads = policy.threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad graphs
            raise RuntimeLoadError(f"onnxruntime cannot load this model: {exc}") from None
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

    def predict(self, batch: np.ndarray) -> dict[str, Any]:
        results = self.session.run(None, {self.input.name: batch.astype(self.dtype, copy=False)})
        outputs: dict[str, Any] = {}
        for name, value in zip(self.output_names, results, strict=True):
            if isinstance(value, list):  # ZipMap: a list of {class: probability} maps
                value = [{str(k): float(v) for k, v in row.items()} for row in value]
            name = self.renames.get(name, name)
            if name == "predictions" and value.ndim == 2 and value.shape[1] == 1:
                value = value[:, 0]  # scikit-learn returns single-target predictions as a vector
            outputs[name] = value
        return outputs
