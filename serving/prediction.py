"""Prediction: check the input against the signature, then run the cached runtime."""

import logging
from typing import Any

from django.conf import settings

from registry.errors import Conflict, ModelFailed, ModelyardError
from registry.models import ModelVersion, VersionStatus
from serving.inputs import parse_inputs
from serving.predictors import VersionRef, predictors

logger = logging.getLogger(__name__)


def version_ref(version: ModelVersion) -> VersionRef:
    return VersionRef(id=version.id, sha256=version.sha256, format=version.format, storage_key=version.storage_key)


def payload_inputs(payload: Any) -> Any:
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise ModelyardError("The body must be a JSON object with an 'inputs' entry", field="inputs",
                             code="invalid_input")
    return payload["inputs"]


def version_predict(*, version: ModelVersion, payload: Any) -> dict[str, Any]:
    if version.status != VersionStatus.READY:
        raise Conflict(f"Version {version.version} of {version.model.name!r} is {version.status}, not ready",
                       code="version_not_ready")
    batch = parse_inputs(payload_inputs(payload), version.signature, settings.MODELYARD_PREDICT_MAX_ROWS)
    runtime = predictors.get(version_ref(version))
    try:
        outputs = runtime.predict(batch)
    except Exception as exc:
        logger.exception("model %s failed on a checked batch", version)
        raise ModelFailed(f"The model failed: {type(exc).__name__}") from exc
    return {"model": version.model.name, "version": version.version, "outputs": outputs}
