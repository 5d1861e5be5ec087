"""Validation runs on a Celery worker: load the artifact with its runtime and prove it answers."""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from modelkit import InputError, RuntimeLoadError
from modelkit.conversion import accelerate
from modelkit.inputs import parse_inputs
from modelkit.runtimes import load_runtime
from modelkit.signatures import signature_conflicts, signature_merge
from registry import tasks
from registry.artifacts import artifact_delete, artifact_local_path, artifact_new_key, artifact_save, file_sha256
from registry.kit import load_policy
from registry.models import ModelFormat, ModelVersion, VersionStatus
from registry.services.audit import audit_record

logger = logging.getLogger(__name__)
_OPEN = (VersionStatus.PENDING, VersionStatus.VALIDATING)
MAX_ATTEMPTS = 3


class ValidationFailed(Exception):
    """A reason a person can act on; it becomes the version's status_message."""


@dataclass
class Outcome:
    status: str
    message: str
    signature: dict[str, Any]
    serving: dict[str, str] = field(default_factory=dict)


def version_validate(*, version_id: int) -> ModelVersion:
    """Idempotent: a version already ready or failed is left alone; a redelivered task re-checks."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().select_related("model__team").get(pk=version_id)
        if version.status not in _OPEN:
            return version
        version.status = VersionStatus.VALIDATING
        version.validation_attempts += 1
        version.save(update_fields=["status", "validation_attempts"])
    if version.validation_attempts > MAX_ATTEMPTS:  # earlier deliveries died with the worker
        return _finish(version_id, Outcome(VersionStatus.FAILED, f"Validation did not finish in {MAX_ATTEMPTS} "
                                           "attempts: loading this model stops the worker", version.signature))
    try:
        outcome = _check(version)
    except ValidationFailed as exc:
        outcome = Outcome(VersionStatus.FAILED, str(exc), version.signature)
    except Exception as exc:  # never leave a version stuck in 'validating'
        logger.exception("validation of version %s crashed", version_id)
        outcome = Outcome(VersionStatus.FAILED, f"Validation crashed: {type(exc).__name__}: {exc}", version.signature)
    return _finish(version_id, outcome)


def _check(version: ModelVersion) -> Outcome:
    path = artifact_local_path(version.storage_key, version.sha256)
    if not path.exists():
        raise ValidationFailed("The artifact file is missing from storage")
    if file_sha256(path) != version.sha256:
        raise ValidationFailed("The stored artifact does not match its sha256: it changed after upload")
    try:
        runtime = load_runtime(version.format, path, load_policy())
    except RuntimeLoadError as exc:
        raise ValidationFailed(str(exc)) from None
    inferred = runtime.signature()
    conflicts = signature_conflicts(version.signature, inferred)
    if conflicts:
        raise ValidationFailed("The declared signature does not match the model: " + "; ".join(conflicts))
    signature = signature_merge(version.signature, inferred)
    example = _run_example(runtime, version.input_example, signature) if version.input_example is not None else None
    serving = _serving(version, runtime, example)
    if serving["serving_format"] == ModelFormat.ONNX and version.format != ModelFormat.ONNX:
        # Served in float32 now: inputs are checked (finite, in range) in the dtype the model sees.
        signature = {**signature, "inputs": {**signature["inputs"], "dtype": "float32"}}
    return Outcome(VersionStatus.READY, "Validated", signature, serving)


def _run_example(runtime: Any, example: Any, signature: dict[str, Any]) -> np.ndarray:
    try:
        batch = parse_inputs(example, signature, settings.MODELYARD_PREDICT_MAX_ROWS)
    except InputError as exc:
        raise ValidationFailed(f"The input example does not fit the signature: {exc.message}") from None
    try:
        outputs = runtime.predict(batch)
    except Exception as exc:  # the model's own error, reported rather than crashing the worker
        raise ValidationFailed(f"The model failed on the input example: {type(exc).__name__}: {exc}") from None
    for name, value in outputs.items():
        if len(value) != len(batch):
            raise ValidationFailed(f"Output {name!r} has {len(value)} rows for {len(batch)} input rows")
    return batch


def _serving(version: ModelVersion, runtime: Any, example: np.ndarray | None) -> dict[str, str]:
    """Which artifact answers predictions, and why."""
    original = {"serving_format": version.format, "serving_storage_key": version.storage_key,
                "serving_sha256": version.sha256}
    if version.format == ModelFormat.ONNX:
        return {**original, "serving_note": "served by onnxruntime (uploaded as ONNX)"}
    if not settings.MODELYARD_ONNX_ACCELERATION:
        return {**original, "serving_note": "served by scikit-learn: ONNX acceleration is off"}
    result = accelerate(runtime, example)
    if result.onnx is None:
        return {**original, "serving_note": result.note}
    key = artifact_new_key(version.model_id).replace(".bin", ".onnx")
    artifact_save(key, ContentFile(result.onnx))
    return {"serving_format": ModelFormat.ONNX, "serving_storage_key": key,
            "serving_sha256": hashlib.sha256(result.onnx).hexdigest(), "serving_note": result.note}


def _finish(version_id: int, outcome: Outcome) -> ModelVersion:
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().select_related("model__team").get(pk=version_id)
        if version.status == VersionStatus.VALIDATING:
            _apply(version, outcome)
            return version
    # Another delivery finished first: drop the conversion this one made.
    key = outcome.serving.get("serving_storage_key")
    if key and key != version.storage_key and key != version.serving_storage_key:
        artifact_delete(key)
    return version


def _apply(version: ModelVersion, outcome: Outcome) -> None:
    version.status, version.status_message = outcome.status, outcome.message
    version.signature, version.validated_at = outcome.signature, timezone.now()
    for name, value in outcome.serving.items():
        setattr(version, name, value)
    version.save(update_fields=["status", "status_message", "signature", "validated_at", *outcome.serving])
    audit_record(actor=None, action=f"version.{outcome.status}",
                 target=f"model:{version.model.name}/v{version.version}", team=version.model.team,
                 after={"status": outcome.status, "message": outcome.message,
                        "serving": outcome.serving.get("serving_note", "")})
    logger.info("version %s %s: %s", version, outcome.status, outcome.message)


def versions_sweep(*, pending_after: timedelta, validating_after: timedelta) -> dict[str, int]:
    """Re-queue versions whose validation was never queued; fail those whose worker vanished."""
    now = timezone.now()
    stale = list(ModelVersion.objects.filter(status=VersionStatus.PENDING, created_at__lt=now - pending_after)
                 .values_list("id", flat=True)[:100])
    for version_id in stale:
        tasks.version_validate.delay(version_id)
    stuck = ModelVersion.objects.filter(status=VersionStatus.VALIDATING, created_at__lt=now - validating_after)
    message = "Validation did not finish in time (its worker may have died); upload the model again"
    failed = [_finish(version_id, Outcome(VersionStatus.FAILED, message, signature))
              for version_id, signature in stuck.values_list("id", "signature")]
    return {"requeued": len(stale), "failed": len(failed)}
