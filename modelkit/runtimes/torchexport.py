"""PyTorch programs saved with ``torch.export.save`` (``.pt2``): from trusted publishers only.

torch 2.13's ``torch.export.load`` reads parts of the archive with ``torch.load(..., weights_only=False)``
and ``pickle.loads`` (pickled weights and constants, and the sample inputs whenever the safe unpickler
refuses them: ``torch/export/pt2_archive/_package.py``, ``torch/_export/serde/serialize.py``), and it
parses the graph's symbolic shapes with ``sympy.sympify``, which evaluates Python: loading one runs code
its author chose, as a pickle does, even when the archive holds no pickle. The same rule as pickle
applies: the deployment allows it (``LoadPolicy.allow_pickle``), only trusted publishers upload it, and
only the validating worker loads it, plus web processes when the ONNX export is not exact and torch
serves it.

Unlike a TorchScript archive, the program records its input: one float32 tensor of rows x features
with a dynamic batch dimension. It is exported to ONNX with torch.onnx's dynamo exporter (onnxscript).
"""

import logging
import warnings
from pathlib import Path
from typing import Any

from modelkit.errors import RuntimeLoadError
from modelkit.policy import LoadPolicy
from modelkit.redact import first_line, redact
from modelkit.runtimes.base import Runtime, zip_archive_check
from modelkit.runtimes.boosting import framework
from modelkit.runtimes.torchscript import TorchScriptRuntime

logger = logging.getLogger(__name__)
_DYNAMIC_BATCH = ("export it with a dynamic batch dimension: torch.export.export(model, (rows,), "
                  "dynamic_shapes=({0: torch.export.Dim('batch')},))")


def _reason(exc: BaseException) -> str:
    line = first_line(str(exc))
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


class _Recorder(logging.Handler):
    """torch.export.load logs why the archive failed, then raises a generic error: keep the reason."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reason: BaseException | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.reason = record.exc_info[1]


class TorchExportRuntime(TorchScriptRuntime):
    """``predict`` is TorchScript's: the program's module is called with one float32 tensor."""

    needs_declared_features = False

    def __init__(self, path: Path, policy: LoadPolicy) -> None:
        Runtime.__init__(self, path, policy)
        if not policy.allow_pickle:
            raise RuntimeLoadError("torch.export programs (.pt2) unpickle parts of their archive when loaded, like "
                                   "pickle and joblib artifacts, which are disabled on this deployment")
        self.torch = framework("pt2")
        zip_archive_check(path, "torch.export archive")
        self.torch.set_num_threads(policy.threads)  # process-wide in torch, as for TorchScript
        self.program = self._load(path)
        self.features = self._features()
        self.module = self.program.module()

    def _load(self, path: Path) -> Any:
        recorder, export_logger = _Recorder(), logging.getLogger("torch.export")
        export_logger.addHandler(recorder)
        try:
            with path.open("rb") as handle:  # a path must end in .pt2 for torch (it warns, to refuse later)
                return self.torch.export.load(handle)
        except Exception as exc:  # JSON, zip, assertion and runtime errors, depending on what is damaged
            logger.warning("torch cannot load %s", path, exc_info=True)
            reason = _reason(recorder.reason or exc)
            raise RuntimeLoadError(f"PyTorch cannot load this torch.export program: {redact(reason, path)}") \
                from None
        finally:
            export_logger.removeHandler(recorder)

    def _features(self) -> int:
        """The row width from the program's one input, which must be a float32 rows x features tensor."""
        program = self.program
        args, kwargs = program.call_spec.in_spec.children()
        placeholders = {node.name: node for node in program.graph.nodes if node.op == "placeholder"}
        values = [placeholders[name].meta.get("val") for name in program.graph_signature.user_inputs]
        value = values[0] if len(values) == 1 and args.num_leaves == 1 and kwargs.num_leaves == 0 else None
        if not isinstance(value, self.torch.Tensor) or value.dim() != 2 or value.dtype != self.torch.float32 \
                or not isinstance(value.shape[1], int):
            raise RuntimeLoadError("Modelyard serves torch.export programs that take one float32 tensor of rows x "
                                   "features (a fixed number of features)")
        batch = value.shape[0]
        if isinstance(batch, int):
            raise RuntimeLoadError(f"This torch.export program was exported for batches of exactly {batch} row(s); "
                                   + _DYNAMIC_BATCH)
        lowest = program.range_constraints.get(batch.node.expr)
        if lowest is not None and lowest.lower > 1:
            raise RuntimeLoadError(f"This torch.export program takes batches of at least {lowest.lower} rows; "
                                   + _DYNAMIC_BATCH)
        return int(value.shape[1])

    def signature(self) -> dict[str, Any]:
        return {"inputs": {"dtype": "float32", "features": self.features, "columns": None},
                "outputs": ["predictions"]}

    def onnx_model(self, features: int) -> bytes:
        """torch.onnx's dynamo exporter (onnxscript) takes the program as it is, dynamic batch included."""
        try:
            with warnings.catch_warnings():  # pytree deprecations inside the exporter
                warnings.simplefilter("ignore")
                exported = self.torch.onnx.export(self.program, dynamo=True, input_names=["input"],
                                                  output_names=["predictions"], verbose=False)
        except Exception as exc:  # the exporter wraps the reason (a missing ONNX function) in two summaries
            root = exc
            while root.__cause__ is not None:
                root = root.__cause__
            raise root from None
        return exported.model_proto.SerializeToString()
