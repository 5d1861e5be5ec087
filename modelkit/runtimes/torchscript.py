"""PyTorch models as TorchScript archives (``torch.jit.save``), with an input shape the uploader declares.

A TorchScript archive holds code in TorchScript, a restricted language run by torch's own interpreter,
and tensors; its pickles are read by torch's TorchScript unpickler, which builds no Python objects.
The archive does not say how many features a row has, so the version declares it
(``signature.inputs.features``, or an input example). Torch is an optional extra
(requirements-torch.txt): a worker without it fails such a version with a message naming it.
"""

import io
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from modelkit.errors import RuntimeLoadError
from modelkit.policy import LoadPolicy
from modelkit.redact import redact
from modelkit.runtimes.base import Runtime, zip_archive_check
from modelkit.runtimes.boosting import framework

logger = logging.getLogger(__name__)


class TorchScriptRuntime(Runtime):
    framework = "PyTorch"
    converter = "torch.onnx"
    # The archive has no input shape: validation requires the version to declare its feature count.
    needs_declared_features = True

    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        super().__init__(path, policy)
        self.torch = framework("torchscript")
        zip_archive_check(path, "TorchScript archive")
        # Process-wide in torch: a web worker already runs one request per thread, as onnxruntime is told.
        self.torch.set_num_threads(policy.threads)
        try:
            with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; the archives stay supported
                warnings.simplefilter("ignore", DeprecationWarning)
                self.module = self.torch.jit.load(str(path), map_location="cpu").eval()
        except Exception as exc:  # torch raises RuntimeError with its own text for a corrupt archive
            logger.warning("torch cannot load %s", path, exc_info=True)
            raise RuntimeLoadError(f"PyTorch cannot load this TorchScript archive: {redact(str(exc), path)}") \
                from None

    def signature(self) -> dict[str, Any]:
        return {"inputs": {"dtype": "float32", "features": None, "columns": None}, "outputs": ["predictions"]}

    def predict(self, batch: np.ndarray) -> dict[str, Any]:
        with self.torch.no_grad():  # not inference_mode: its tensors break a module torch.onnx has traced
            result = self.module(self.torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)))
        if not isinstance(result, self.torch.Tensor):
            raise TypeError(f"the model returned {type(result).__name__}; Modelyard serves models that return "
                            "one tensor")
        values = result.detach().numpy()
        return {"predictions": values[:, 0] if values.ndim == 2 and values.shape[1] == 1 else values}

    def onnx_model(self, features: int) -> bytes:
        """torch.onnx's TorchScript exporter (the module is already TorchScript), with a dynamic batch."""
        buffer = io.BytesIO()
        with warnings.catch_warnings():  # the TorchScript exporter is deprecated, and the one for this input
            warnings.simplefilter("ignore")
            self.torch.onnx.export(self.module, (self.torch.zeros(2, features),), buffer, dynamo=False,
                                   input_names=["input"], output_names=["predictions"],
                                   dynamic_axes={"input": {0: "batch"}, "predictions": {0: "batch"}})
        return buffer.getvalue()
