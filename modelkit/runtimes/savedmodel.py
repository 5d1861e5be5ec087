"""TensorFlow SavedModels, uploaded as a zip, tar or tar.gz of the SavedModel folder.

The archive was checked at upload (relative paths inside it only, plain files and folders, within the
caps: :mod:`modelkit.archives`) and is checked again here before it is unpacked into a private
temporary folder that lives as long as the runtime. The ``serving_default`` signature must take one
float tensor of rows x features; its outputs keep their names, except that a single output is
``predictions`` as for every other regressor. TensorFlow is an optional extra (requirements-tf.txt).
"""

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from modelkit.archives import TarTooLarge, UnsafeArchive, model_root, unpack
from modelkit.errors import RuntimeLoadError
from modelkit.formats import MAX_ZIP_ENTRIES, MAX_ZIP_UNPACKED_BYTES, ArchiveTooLarge, zip_check
from modelkit.onnx_naming import standard_outputs
from modelkit.policy import LoadPolicy
from modelkit.redact import redact
from modelkit.runtimes.base import Runtime
from modelkit.runtimes.boosting import framework

_DTYPES = {"float32": "float32", "float64": "float64"}
SIGNATURE = "serving_default"


def _unpacked(path: Path, folder: Path) -> Path:
    try:
        if zipfile.is_zipfile(path):
            with path.open("rb") as handle:
                zip_check(handle)
        names = unpack(path, folder, max_entries=MAX_ZIP_ENTRIES, max_unpacked_bytes=MAX_ZIP_UNPACKED_BYTES)
    except (ArchiveTooLarge, UnsafeArchive, TarTooLarge) as exc:
        raise RuntimeLoadError(exc.message, code=exc.code) from None
    except Exception as exc:  # zipfile / tarfile errors for a corrupt archive
        raise RuntimeLoadError(f"Not a readable SavedModel archive: {redact(str(exc), path)}") from None
    root = model_root(names, "saved_model.pb")
    if root is None:
        raise RuntimeLoadError("The archive holds no saved_model.pb (at its root or one folder down)")
    return folder / root


class SavedModelRuntime(Runtime):
    framework = "TensorFlow"
    converter = "tf2onnx"

    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        super().__init__(path, policy)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
        self.tf = framework("savedmodel")
        self._folder = tempfile.TemporaryDirectory(prefix="savedmodel-")  # removed with the runtime
        directory = _unpacked(path, Path(self._folder.name))
        try:
            self.model = self.tf.saved_model.load(str(directory))
            self.function = self.model.signatures[SIGNATURE]
        except KeyError:
            raise RuntimeLoadError(f"The SavedModel has no {SIGNATURE!r} signature") from None
        except Exception as exc:  # TensorFlow's own errors for a corrupt graph or variables
            raise RuntimeLoadError(f"TensorFlow cannot load this SavedModel: "
                                   f"{redact(str(exc).strip().splitlines()[0][:500], directory)}") from None
        self._read_signature()

    def _read_signature(self) -> None:
        args, kwargs = self.function.structured_input_signature
        specs = list(kwargs.items())
        if args or len(specs) != 1 or len(specs[0][1].shape) != 2 or specs[0][1].dtype.name not in _DTYPES:
            raise RuntimeLoadError(f"Modelyard serves SavedModels whose {SIGNATURE!r} signature takes one float "
                                   "tensor of rows x features")
        self.input_name, spec = specs[0]
        self.dtype = _DTYPES[spec.dtype.name]
        self.features = spec.shape[1]
        keys = sorted(self.function.structured_outputs)
        self.outputs = {key: ("predictions" if len(keys) == 1 else key) for key in keys}
        self.needs_declared_features = self.features is None

    def signature(self) -> dict[str, Any]:
        return {"inputs": {"dtype": self.dtype, "features": self.features, "columns": None},
                "outputs": list(self.outputs.values())}

    def predict(self, batch: np.ndarray) -> dict[str, Any]:
        result = self.function(**{self.input_name: self.tf.constant(batch.astype(self.dtype, copy=False))})
        outputs = {}
        for key, name in self.outputs.items():
            values = result[key].numpy()
            outputs[name] = values[:, 0] if name == "predictions" and values.ndim == 2 and values.shape[1] == 1 \
                else values
        return outputs

    def onnx_model(self, features: int) -> bytes:
        import tf2onnx

        tf, function, name = self.tf, self.function, self.input_name
        spec = tf.TensorSpec([None, features], getattr(tf, self.dtype), name="input")

        @tf.function(input_signature=[spec])
        def serve(rows: Any) -> Any:
            return function(**{name: rows})

        model, _ = tf2onnx.convert.from_function(serve, input_signature=[spec], opset=17)
        names = [self.outputs.get(output.name) for output in model.graph.output]
        if None in names:
            raise ValueError(f"tf2onnx named the outputs {[o.name for o in model.graph.output]}")
        return standard_outputs(model, names)
