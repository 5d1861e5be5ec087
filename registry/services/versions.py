"""Creating versions: the upload path. Nothing is kept unless everything succeeds."""

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from core.errors import Forbidden, ModelyardError, Unavailable
from modelkit import SignatureError
from modelkit.formats import detect_format
from modelkit.signatures import signature_normalize
from registry import tasks
from registry.artifacts import artifact_discard, artifact_new_key, artifact_save
from registry.models import UNSAFE_FORMATS, ModelVersion, RegisteredModel, VersionStatus
from registry.permissions import User
from registry.services.audit import audit_record
from registry.uploads import HashedUploadedFile

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
LINEAGE_FIELDS = ("source_run", "git_commit", "dataset_hash", "parent_version")


@dataclass
class VersionMetadata:
    sha256: str | None = None
    signature: dict[str, Any] = field(default_factory=dict)
    input_example: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def _check_metadata(meta: VersionMetadata) -> None:
    if meta.sha256 is not None and not _SHA256.match(meta.sha256.lower()):
        raise ModelyardError("sha256 must be 64 hexadecimal characters", field="sha256")
    for name in ("metrics", "params", "tags", "lineage"):
        if not isinstance(getattr(meta, name), dict):
            raise ModelyardError(f"{name} must be a JSON object", field=name)
    unknown = set(meta.lineage) - set(LINEAGE_FIELDS)
    if unknown:
        raise ModelyardError(f"Unknown lineage fields {sorted(unknown)}; use {list(LINEAGE_FIELDS)}", field="lineage")
    bad_metrics = [k for k, v in meta.metrics.items() if isinstance(v, bool) or not isinstance(v, int | float)]
    if bad_metrics:
        raise ModelyardError(f"Metrics must be numbers: {sorted(bad_metrics)}", field="metrics")
    try:
        meta.signature = signature_normalize(meta.signature)
    except SignatureError as exc:
        raise ModelyardError(exc.message, field=exc.field, code=exc.code) from None


def _check_format(actor: User, upload: HashedUploadedFile) -> str:
    fmt = detect_format(upload)
    if fmt is None:
        raise ModelyardError("The file is not ONNX, skops, joblib or pickle (detected from its bytes)",
                             field="file", code="unsupported_format")
    if fmt in UNSAFE_FORMATS:
        if not settings.MODELYARD_ALLOW_PICKLE:
            raise Forbidden(f"{fmt} artifacts run code when loaded and are disabled on this deployment; "
                            "upload ONNX or skops instead", field="file")
        if not actor.has_perm("registry.publish_pickle"):
            raise Forbidden(f"Only trusted publishers may upload {fmt} artifacts; upload ONNX or skops instead",
                            field="file")
    return fmt


def version_create(
    *, actor: User, model: RegisteredModel, upload: HashedUploadedFile, meta: VersionMetadata, ip: str | None = None,
) -> ModelVersion:
    _check_metadata(meta)
    if upload.size == 0:
        raise ModelyardError("The uploaded file is empty", field="file")
    if meta.sha256 and meta.sha256.lower() != upload.sha256:
        raise ModelyardError(f"Declared sha256 does not match the upload (got {upload.sha256})",
                             field="sha256", code="checksum_mismatch")
    fmt = _check_format(actor, upload)
    key = artifact_new_key(model.id)
    # Copy the bytes before taking the model lock: a 500 MB copy must not block other uploads.
    try:
        artifact_save(key, upload)
    except Unavailable as exc:  # any backend's error (disk full, S3 unreachable): drop any partial file
        artifact_discard(key)
        raise Unavailable(f"{exc.message}; nothing was saved", field="file", code="storage_unavailable") from None
    try:
        return _version_insert(actor=actor, model=model, fmt=fmt, key=key, upload=upload, meta=meta, ip=ip)
    except BaseException:
        artifact_discard(key)  # never raises: the insert's own error is the one to report
        raise


@transaction.atomic
def _version_insert(
    *, actor: User, model: RegisteredModel, fmt: str, key: str, upload: HashedUploadedFile,
    meta: VersionMetadata, ip: str | None,
) -> ModelVersion:
    # Row lock on the model serialises numbering: concurrent uploads get n and n+1, never a clash.
    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    number = (ModelVersion.objects.filter(model=locked).aggregate(n=Max("version"))["n"] or 0) + 1
    version = ModelVersion.objects.create(
        model=locked, version=number, format=fmt, storage_key=key, original_filename=(upload.name or "")[:255],
        sha256=upload.sha256, size_bytes=upload.size, signature=meta.signature, input_example=meta.input_example,
        metrics=meta.metrics, params=meta.params, tags=meta.tags, lineage=meta.lineage,
        description=meta.description, created_by=actor,
    )
    audit_record(actor=actor, action="version.create", target=f"model:{model.name}/v{number}", team=model.team,
                 after={"format": fmt, "sha256": upload.sha256, "size_bytes": upload.size}, ip=ip)
    # Robust: once committed, the version is kept even if the broker is down; the sweeper
    # (registry.versions_sweep) queues its validation later.
    transaction.on_commit(lambda: tasks.version_validate.delay(version.id), robust=True)
    return version


def version_publish_local(
    *, actor: User, model: RegisteredModel, filename: str, data: bytes, input_example: Any = None,
    alias: str = "production",
) -> ModelVersion:
    """Upload bytes, validate in this process and point an alias: the demo loader and the bench.

    Validating here as well as on a worker is safe (validation is idempotent; if a worker claimed the
    version first, this waits for it) and makes the version servable before this returns.
    """
    from registry.services.aliases import alias_set
    from registry.services.validation import version_validate_here
    from registry.uploads import uploaded_file_from_bytes

    with uploaded_file_from_bytes(filename, data) as upload:
        version = version_create(actor=actor, model=model, upload=upload,
                                 meta=VersionMetadata(input_example=input_example))
    version = version_validate_here(version_id=version.id)
    if version.status != VersionStatus.READY:
        raise ModelyardError(f"{model.name} v{version.version} failed validation: {version.status_message}")
    alias_set(actor=actor, model=model, name=alias, version=version)
    return version
