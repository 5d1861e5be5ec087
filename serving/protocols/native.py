from typing import Any

import numpy as np
from django.conf import settings

from core.errors import ModelyardError
from modelkit.inputs import parse_inputs


def decode(body: Any, signature: dict[str, Any]) -> np.ndarray:
    if not isinstance(body, dict) or "inputs" not in body:
        raise ModelyardError("The body must be a JSON object with an 'inputs' entry", field="inputs",
                             code="invalid_input")
    return parse_inputs(body["inputs"], signature, settings.MODELYARD_PREDICT_MAX_ROWS)


def encode(outputs: dict[str, Any], *, model: str, version: int, body: Any) -> dict[str, Any]:
    return {"model": model, "version": version, "outputs": outputs}
