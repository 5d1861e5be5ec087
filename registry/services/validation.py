"""Validation runs on a Celery worker: load the artifact with its runtime and prove it answers."""

import logging
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry.artifacts import artifact_local_path, file_sha256
from registry.errors import ModelyardError
from registry.models import ModelVersion, VersionStatus
from registry.services.audit import audit_record
from registry.signatures import signature_conflicts, signature_merge

logger = logging.getLogger(__name__)
_OPEN = (VersionStatus.PENDING, VersionStatus.VALIDATING)


class ValidationFailed(Exception):
    """A reason a person can act on; it becomes the version's status_message."""


def version_validate(*, version_id: int) -> ModelVersion:
    """Idempotent: a version already ready or failed is left alone; a redelivered task re-checks."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().select_related("model__team").get(pk=version_id)
        if version.status not in _OPEN:
            return version
        version.status = VersionStatus.VALIDATING
        version.save(update_fields=["status"])
    try:
        signature, message = _check(version), "Validated"
        status = VersionStatus.READY
    except ValidationFailed as exc:
        signature, message, status = version.signature, str(exc), VersionStatus.FAILED
    except Exception as exc:  # never leave a version stuck in 'validating'
        logger.exception("validation of version %s crashed", version_id)
        signature, status = version.signature, VersionStatus.FAILED
        message = f"Validation crashed: {type(exc).__name__}: {exc}"
    return _finish(version_id, status=status, message=message, signature=signature)


def _check(version: ModelVersion) -> dict[str, Any]:
    from serving.inputs import parse_inputs
    from serving.runtimes import RuntimeLoadError, load_runtime

    path = artifact_local_path(version.storage_key, version.sha256)
    if not path.exists():
        raise ValidationFailed("The artifact file is missing from storage")
    if file_sha256(path) != version.sha256:
        raise ValidationFailed("The stored artifact does not match its sha256: it changed after upload")
    try:
        runtime = load_runtime(version.format, path)
    except RuntimeLoadError as exc:
        raise ValidationFailed(str(exc)) from None
    inferred = runtime.signature()
    conflicts = signature_conflicts(version.signature, inferred)
    if conflicts:
        raise ValidationFailed("The declared signature does not match the model: " + "; ".join(conflicts))
    signature = signature_merge(version.signature, inferred)
    if version.input_example is not None:
        _run_example(runtime, parse_inputs, version.input_example, signature)
    return signature


def _run_example(runtime: Any, parse_inputs: Any, example: Any, signature: dict[str, Any]) -> None:
    try:
        batch = parse_inputs(example, signature, settings.MODELYARD_PREDICT_MAX_ROWS)
    except ModelyardError as exc:
        raise ValidationFailed(f"The input example does not fit the signature: {exc.message}") from None
    try:
        outputs = runtime.predict(batch)
    except Exception as exc:  # the model's own error, reported rather than crashing the worker
        raise ValidationFailed(f"The model failed on the input example: {type(exc).__name__}: {exc}") from None
    for name, value in outputs.items():
        if len(value) != len(batch):
            raise ValidationFailed(f"Output {name!r} has {len(value)} rows for {len(batch)} input rows")
        if isinstance(value, np.ndarray) and value.dtype.kind == "O":
            raise ValidationFailed(f"Output {name!r} is not a numeric or string array")


@transaction.atomic
def _finish(version_id: int, *, status: str, message: str, signature: dict[str, Any]) -> ModelVersion:
    version = ModelVersion.objects.select_for_update().select_related("model__team").get(pk=version_id)
    if version.status != VersionStatus.VALIDATING:
        return version  # another delivery finished first
    version.status, version.status_message = status, message
    version.signature, version.validated_at = signature, timezone.now()
    version.save(update_fields=["status", "status_message", "signature", "validated_at"])
    audit_record(actor=None, action=f"version.{status}", target=f"model:{version.model.name}/v{version.version}",
                 team=version.model.team, after={"status": status, "message": message})
    logger.info("version %s %s: %s", version, status, message)
    return version
