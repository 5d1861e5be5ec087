"""Creating versions: the upload path. Nothing is kept unless everything succeeds."""

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from core.codecs import dumps
from core.errors import Conflict, Forbidden, ModelyardError, Unavailable
from modelkit import KitError, SignatureError
from modelkit.formats import Format, detect_format
from modelkit.onnx_check import NotProtobuf, onnx_refuse_external_data
from modelkit.signatures import signature_normalize
from registry import tasks
from registry.artifacts import artifact_discard, artifact_new_key, artifact_save
from registry.models import UNSAFE_FORMATS, ModelVersion, RegisteredModel, Team, VersionStatus
from registry.permissions import User
from registry.services.audit import audit_record
from registry.services.quota import quota_check
from registry.uploads import HashedUploadedFile

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# source: where the model came from, e.g. MLflow's runs:/<run id>/<artifact path> (pushed from an MLflow folder).
LINEAGE_FIELDS = ("source_run", "source", "git_commit", "dataset_hash", "parent_version")
# Metadata is stored on the version and sent with it: each field is bounded (serialized JSON bytes,
# keys) so a version, and a page of them, stays small. See docs/security.md.
METADATA_MAX_BYTES = {"metrics": 64 * 1024, "params": 64 * 1024, "tags": 64 * 1024, "lineage": 64 * 1024,
                      "signature": 256 * 1024, "input_example": 1024 * 1024, "description": 64 * 1024}
METADATA_MAX_KEYS = 1000  # metrics, params, tags
INPUT_EXAMPLE_MAX_ROWS = 100


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
    # The client's Idempotency-Key header: a retried upload returns the first one's version.
    idempotency_key: str | None = None


def _too_large(name: str, message: str) -> ModelyardError:
    return ModelyardError(message, field=name, code="metadata_too_large")


def _check_sizes(meta: VersionMetadata) -> None:
    """Counts first (len() costs nothing), then the serialized size of each field."""
    for name in ("metrics", "params", "tags"):
        if len(getattr(meta, name)) > METADATA_MAX_KEYS:
            raise _too_large(name, f"{name} has {len(getattr(meta, name))} keys; the limit is {METADATA_MAX_KEYS}")
    example = meta.input_example
    lengths = ([len(example)] if isinstance(example, list) else
               [len(v) for v in example.values() if isinstance(v, list)] if isinstance(example, dict) else [])
    if any(n > INPUT_EXAMPLE_MAX_ROWS for n in lengths):
        raise _too_large("input_example", f"input_example has {max(lengths)} rows; the limit is "
                                          f"{INPUT_EXAMPLE_MAX_ROWS}")
    if not isinstance(meta.description, str):
        raise ModelyardError("description must be text", field="description")
    for name, limit in METADATA_MAX_BYTES.items():
        value = getattr(meta, name)
        if name == "description":
            size = len(value.encode("utf-8", errors="surrogatepass"))
        else:
            try:
                size = len(dumps(value))
            except TypeError:  # orjson: a value JSON cannot hold
                raise ModelyardError(f"{name} must be JSON", field=name) from None
        if size > limit:
            raise _too_large(name, f"{name} is {size} bytes; the limit is {limit} bytes")


def _check_metadata(meta: VersionMetadata) -> None:
    if meta.sha256 is not None and not _SHA256.match(meta.sha256.lower()):
        raise ModelyardError("sha256 must be 64 hexadecimal characters", field="sha256")
    for name in ("metrics", "params", "tags", "lineage"):
        if not isinstance(getattr(meta, name), dict):
            raise ModelyardError(f"{name} must be a JSON object", field=name)
    _check_sizes(meta)
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
    try:
        fmt = detect_format(upload)  # a zip is sized up from its own records before its directory is parsed
        if fmt == Format.ONNX:
            onnx_refuse_external_data(upload)
    except NotProtobuf:
        pass  # not well-formed: validation fails the version with onnxruntime's reason
    except KitError as exc:  # an archive over the caps, ONNX external data
        raise ModelyardError(exc.message, field=exc.field or "file", code=exc.code) from None
    if fmt is None:
        raise ModelyardError("The file is not ONNX, skops, XGBoost (JSON/UBJ), LightGBM (text), TorchScript, a "
                             "torch.export program (.pt2), a TensorFlow SavedModel (zip or tar), joblib or pickle "
                             "(detected from its bytes)", field="file", code="unsupported_format")
    if fmt in UNSAFE_FORMATS:
        # torch.export.load unpickles parts of a .pt2 archive: it is gated exactly like pickle.
        what = "torch.export (.pt2)" if fmt == Format.PT2 else fmt
        if not settings.MODELYARD_ALLOW_PICKLE:
            raise Forbidden(f"{what} artifacts run code when loaded and are disabled on this deployment; "
                            "upload ONNX or skops instead", field="file")
        if not actor.has_perm("registry.publish_pickle"):
            raise Forbidden(f"Only trusted publishers (permission registry.publish_pickle) may upload {what} "
                            "artifacts: loading one runs code chosen by its author; upload ONNX or skops instead",
                            field="file")
    return fmt


def _idempotent_replay(model: RegisteredModel, key: str | None, sha256: str) -> ModelVersion | None:
    """The version an earlier upload with this Idempotency-Key made, if the file is the same one."""
    if key is None:
        return None
    if not (0 < len(key) <= 100 and key.isascii() and key.isprintable()):
        raise ModelyardError("Idempotency-Key must be 1-100 printable ASCII characters", field="idempotency_key")
    earlier = ModelVersion.objects.filter(model=model, idempotency_key=key).first()
    if earlier is None:
        return None
    if earlier.sha256 != sha256:
        raise Conflict(f"Idempotency-Key {key!r} was used for another file (version {earlier.version})",
                       field="idempotency_key", code="idempotency_key_reused")
    earlier.replayed = True  # type: ignore[attr-defined]  (the view answers 200, not 201)
    return earlier


def version_create(
    *, actor: User, model: RegisteredModel, upload: HashedUploadedFile, meta: VersionMetadata, ip: str | None = None,
) -> ModelVersion:
    _check_metadata(meta)
    if upload.size == 0:
        raise ModelyardError("The uploaded file is empty", field="file")
    if meta.sha256 and meta.sha256.lower() != upload.sha256:
        raise ModelyardError(f"Declared sha256 does not match the upload (got {upload.sha256})",
                             field="sha256", code="checksum_mismatch")
    replay = _idempotent_replay(model, meta.idempotency_key, upload.sha256)
    if replay is not None:
        return replay
    quota_check(team=model.team, incoming=upload.size)  # before the copy; again under the lock below
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
    except IntegrityError:  # a concurrent retry with the same Idempotency-Key committed first
        artifact_discard(key)
        replay = _idempotent_replay(model, meta.idempotency_key, upload.sha256)
        if replay is None:
            raise
        return replay
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
    # The team row too: concurrent uploads of a team's models count against its quota one at a time.
    quota_check(team=Team.objects.select_for_update().get(pk=locked.team_id), incoming=upload.size)
    number = (ModelVersion.objects.filter(model=locked).aggregate(n=Max("version"))["n"] or 0) + 1
    version = ModelVersion.objects.create(
        model=locked, version=number, format=fmt, storage_key=key, original_filename=(upload.name or "")[:255],
        sha256=upload.sha256, size_bytes=upload.size, signature=meta.signature, input_example=meta.input_example,
        metrics=meta.metrics, params=meta.params, tags=meta.tags, lineage=meta.lineage,
        description=meta.description, created_by=actor, idempotency_key=meta.idempotency_key,
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
