"""Validation runs on a Celery worker: load the artifact with its runtime and prove it answers."""

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.errors import Unavailable
from modelkit import InputError, RuntimeLoadError
from modelkit.conversion import accelerate
from modelkit.inputs import parse_inputs
from modelkit.probe import probe_load
from modelkit.runtimes import load_runtime
from modelkit.signatures import signature_conflicts, signature_merge
from registry import tasks
from registry.artifacts import (
    ArtifactTampered,
    artifact_discard,
    artifact_local_path,
    artifact_new_key,
    artifact_save,
    file_sha256,
)
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
    """Idempotent. A version already ready or failed is left alone; one under a live lease (another
    worker is validating it) too, and that delivery is not an attempt. Otherwise this delivery
    claims the version (a first claim, or the takeover of a stale lease) and checks it."""
    version, owner = _claim(version_id)
    if owner is None:
        return version
    if version.validation_attempts > MAX_ATTEMPTS:  # the earlier claims died with their worker
        return _finish(version_id, Outcome(VersionStatus.FAILED, f"Validation did not finish in {MAX_ATTEMPTS} "
                                           "attempts: loading this model stops the worker", version.signature),
                       owner=owner)
    with _heartbeat(version_id, owner):
        try:
            outcome = _check(version)
        except ValidationFailed as exc:
            outcome = Outcome(VersionStatus.FAILED, str(exc), version.signature)
        except Unavailable:  # storage, not the model: give the version back, the task retries
            _release(version_id, owner)
            raise
        except Exception as exc:  # never leave a version stuck in 'validating'
            logger.exception("validation of version %s crashed", version_id)
            outcome = Outcome(VersionStatus.FAILED, f"Validation crashed: {type(exc).__name__}: {exc}",
                              version.signature)
    return _finish(version_id, outcome, owner=owner)


def version_validate_here(*, version_id: int, timeout: float = 900.0) -> ModelVersion:
    """Validate in this process, or wait for the worker holding the lease; take over if it dies."""
    deadline = time.monotonic() + timeout
    version = version_validate(version_id=version_id)
    while version.status == VersionStatus.VALIDATING and time.monotonic() < deadline:
        time.sleep(0.5)
        version = version_validate(version_id=version_id)
    return version


# --- the lease --------------------------------------------------------------------------------

def _lease() -> timedelta:
    return timedelta(seconds=settings.MODELYARD_VALIDATION_LEASE_SECONDS)


def _lease_live(version: ModelVersion, now: datetime) -> bool:
    beat = version.validation_heartbeat_at
    return version.status == VersionStatus.VALIDATING and beat is not None and beat >= now - _lease()


def _claim(version_id: int) -> tuple[ModelVersion, str | None]:
    """Take the version for this delivery; the owner id is None when there is nothing to do."""
    now = timezone.now()
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().select_related("model__team").get(pk=version_id)
        if version.status not in _OPEN:
            return version, None
        if _lease_live(version, now):
            logger.info("version %s is being validated by %s; this delivery does nothing",
                        version_id, version.validation_lease_owner)
            return version, None
        owner = f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        version.status, version.validation_attempts = VersionStatus.VALIDATING, version.validation_attempts + 1
        version.validation_lease_owner, version.validation_started_at = owner, now
        version.validation_heartbeat_at = now
        version.save(update_fields=["status", "validation_attempts", "validation_lease_owner",
                                    "validation_started_at", "validation_heartbeat_at"])
    return version, owner


def _held(version_id: int, owner: str) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(pk=version_id, status=VersionStatus.VALIDATING,
                                       validation_lease_owner=owner)


def _release(version_id: int, owner: str) -> None:
    """Back to pending, the attempt not counted: it did not die, storage refused it."""
    _held(version_id, owner).update(status=VersionStatus.PENDING, validation_attempts=F("validation_attempts") - 1,
                                    validation_lease_owner="", validation_heartbeat_at=None)


@contextmanager
def _heartbeat(version_id: int, owner: str) -> Iterator[None]:
    """Renew the lease from a thread while the checks run: a model load or a conversion can take
    longer than any lease, and a thread needs no cooperation from them. A hung check is bounded by
    the task's hard time limit (prefork kills the child, and the heartbeat with it) and in any case
    by the sweeper, which fails a validation claimed more than three time limits ago."""
    if transaction.get_connection().in_atomic_block:  # nobody else sees the claim until commit
        yield
        return
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(version_id, owner, stop), name=f"lease-{version_id}", daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join(timeout=10)


def _beat(version_id: int, owner: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(_lease().total_seconds() / 4):
            try:
                if not _held(version_id, owner).update(validation_heartbeat_at=timezone.now()):
                    logger.warning("version %s: lease %s was taken over or ended", version_id, owner)
                    return
            except DatabaseError:  # the next beat may get through; the lease lasts four beats
                logger.warning("version %s: heartbeat failed", version_id, exc_info=True)
    finally:
        connections.close_all()  # this thread's connections only


# --- the checks -------------------------------------------------------------------------------

def _check(version: ModelVersion) -> Outcome:
    try:
        path = artifact_local_path(version.storage_key, version.sha256)
    except FileNotFoundError:
        raise ValidationFailed("The artifact file is missing from storage") from None
    except ArtifactTampered:
        raise ValidationFailed("The stored artifact does not authenticate: it changed after upload") from None
    if not path.exists():
        raise ValidationFailed("The artifact file is missing from storage")
    if file_sha256(path) != version.sha256:
        raise ValidationFailed("The stored artifact does not match its sha256: it changed after upload")
    try:
        probe_load(version.format, path)  # a native parser that crashes on a corrupt file crashes a child
        runtime = load_runtime(version.format, path, load_policy())
    except RuntimeLoadError as exc:
        raise ValidationFailed(str(exc)) from None
    inferred = runtime.signature()
    conflicts = signature_conflicts(version.signature, inferred)
    if conflicts:
        raise ValidationFailed("The declared signature does not match the model: " + "; ".join(conflicts))
    signature = signature_merge(version.signature, inferred)
    example = _run_example(runtime, version.input_example, signature) if version.input_example is not None else None
    signature = _declared_shape(runtime, signature, example)
    serving = _serving(version, runtime, example, signature["inputs"]["features"])
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


def _declared_shape(runtime: Any, signature: dict[str, Any], example: np.ndarray | None) -> dict[str, Any]:
    """A format that does not record its input shape (TorchScript) takes the declared one or the example's."""
    if not getattr(runtime, "needs_declared_features", False) or signature["inputs"]["features"]:
        return signature
    if example is None:
        raise ValidationFailed(f"A {runtime.framework} model does not record its input shape: declare it "
                               "(signature.inputs.features) or upload an input example")
    return {**signature, "inputs": {**signature["inputs"], "features": int(example.shape[1])}}


def _serving(version: ModelVersion, runtime: Any, example: np.ndarray | None,
             features: int | None) -> dict[str, str]:
    """Which artifact answers predictions, and why."""
    original = {"serving_format": version.format, "serving_storage_key": version.storage_key,
                "serving_sha256": version.sha256}
    if version.format == ModelFormat.ONNX:
        return {**original, "serving_note": "served by onnxruntime (uploaded as ONNX)"}
    if not settings.MODELYARD_ONNX_ACCELERATION:
        framework = getattr(runtime, "framework", "scikit-learn")
        return {**original, "serving_note": f"served by {framework}: ONNX acceleration is off"}
    result = accelerate(runtime, example, features)
    if result.onnx is None:
        return {**original, "serving_note": result.note}
    key = artifact_new_key(version.model_id).replace(".bin", ".onnx")
    artifact_save(key, ContentFile(result.onnx))
    return {"serving_format": ModelFormat.ONNX, "serving_storage_key": key,
            "serving_sha256": hashlib.sha256(result.onnx).hexdigest(), "serving_note": result.note}


def _finish(version_id: int, outcome: Outcome, *, owner: str | None) -> ModelVersion:
    """Record the outcome if this delivery still holds the lease (owner None: the sweeper, always)."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().select_related("model__team").get(pk=version_id)
        if version.status == VersionStatus.VALIDATING and owner in (None, version.validation_lease_owner):
            _apply(version, outcome)
            return version
    # Another delivery took over or finished first: drop the conversion this one made.
    key = outcome.serving.get("serving_storage_key")
    if key and key != version.storage_key and key != version.serving_storage_key:
        artifact_discard(key)
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
    """Re-queue versions whose validation was never queued or whose worker died (stale lease); fail
    those whose validation was claimed too long ago. Time counts from the claim, not the upload."""
    now = timezone.now()
    validating = ModelVersion.objects.filter(status=VersionStatus.VALIDATING)
    too_old = Q(validation_started_at__lt=now - validating_after) | Q(
        validation_started_at__isnull=True, created_at__lt=now - validating_after)  # claimed before leases
    message = "Validation did not finish in time (its worker may have died); upload the model again"
    failed = [_finish(version_id, Outcome(VersionStatus.FAILED, message, signature), owner=None)
              for version_id, signature in validating.filter(too_old).values_list("id", "signature")]
    stale = validating.filter(Q(validation_heartbeat_at__isnull=True) | Q(validation_heartbeat_at__lt=now - _lease()))
    pending = ModelVersion.objects.filter(status=VersionStatus.PENDING, created_at__lt=now - pending_after)
    requeue = [*pending.values_list("id", flat=True)[:100], *stale.values_list("id", flat=True)[:100]]
    for version_id in requeue:
        tasks.version_validate.delay(version_id)
    return {"requeued": len(requeue), "failed": len(failed)}
