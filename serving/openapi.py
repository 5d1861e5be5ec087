"""OpenAPI for the serving routes, which are plain Django views (the hot path skips DRF).

A drf-spectacular post-processing hook adds them to the generated schema so that /api/docs and
API fuzzing cover them like every other route.
"""

from typing import Any

_ERROR = {"$ref": "#/components/schemas/ErrorEnvelope"}
_V2_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
_ROWS = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}
_COLUMNS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "number"}}}
_PREDICT_BODY = {
    "type": "object",
    "description": "Native {inputs}, or an MLflow payload (dataframe_split, dataframe_records, instances, inputs), "
                   "or an Open Inference Protocol v2 request.",
    "properties": {"inputs": {"oneOf": [_ROWS, _COLUMNS]}},
}
_TENSOR = {"type": "object", "required": ["name", "shape", "datatype", "data"], "properties": {
    "name": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
    "datatype": {"type": "string", "enum": ["FP32", "FP64", "INT32", "INT64"]}, "data": {"type": "array"}}}
_V2_BODY = {"type": "object", "required": ["inputs"], "properties": {
    "id": {"type": "string"}, "inputs": {"type": "array", "minItems": 1, "items": _TENSOR},
    "outputs": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}
_ANY_OBJECT = {"type": "object", "additionalProperties": True}
_NUMBERS = {"oneOf": [_ROWS, {"type": "array", "items": {"type": "number"}}, _COLUMNS]}
# TF Serving's REST API: row format (instances) or columnar format (inputs), not both.
_V1_BODY = {"type": "object", "properties": {
    "signature_name": {"type": "string", "enum": ["serving_default", "predict"]},
    "instances": {"oneOf": [_NUMBERS, {"type": "array", "items": _ANY_OBJECT}]}, "inputs": _NUMBERS}}


def _responses(error: dict[str, Any], codes: tuple[int, ...]) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": _ANY_OBJECT}}}}
    for code in codes:
        responses[str(code)] = {"description": "Error", "content": {"application/json": {"schema": error}}}
    return responses


def _operation(op_id: str, summary: str, params: list[str], body: dict[str, Any] | None, *, v2: bool = False,
               public: bool = False) -> dict[str, Any]:
    codes = (400, 401, 403, 404, 405, 409, 413, 415, 503, 504) if body else (401, 403, 404)
    operation: dict[str, Any] = {
        "operationId": op_id, "summary": summary, "tags": ["serving"],
        "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params],
        "responses": _responses(_V2_ERROR if v2 else _ERROR, () if public else codes),
        "security": [] if public else [{"jwtAuth": []}],
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _paths() -> dict[str, Any]:
    m, v, a = "name", "number", "alias"
    return {
        "/api/v1/models/{name}/versions/{number}/predict": {"post": _operation(
            "predict_version", "Predict with a version", [m, v], _PREDICT_BODY)},
        "/api/v1/models/{name}/aliases/{alias}/predict": {"post": _operation(
            "predict_alias", "Predict through an alias", [m, a], _PREDICT_BODY)},
        "/api/v1/models/{name}/aliases/{alias}/invocations": {"post": _operation(
            "mlflow_invocations", "MLflow scoring payloads", [m, a], _ANY_OBJECT)},
        "/v2": {"get": _operation("v2_server", "Server metadata", [], None, v2=True, public=True)},
        "/v2/health/live": {"get": _operation("v2_live", "Liveness", [], None, v2=True, public=True)},
        "/v2/models/{name}": {"get": _operation("v2_model", "Model metadata", [m], None, v2=True)},
        "/v2/models/{name}/ready": {"get": _operation("v2_model_ready", "Model readiness", [m], None, v2=True)},
        "/v2/models/{name}/infer": {"post": _operation("v2_infer", "Infer (production alias)", [m], _V2_BODY,
                                                       v2=True)},
        "/v2/models/{name}/versions/{version}/infer": {"post": _operation(
            "v2_infer_version", "Infer with a version", [m, "version"], _V2_BODY, v2=True)},
        **_v1_paths(),
    }


def _v1_paths() -> dict[str, Any]:
    """TensorFlow Serving / KServe v1: labels are aliases; the model alone means its production alias."""
    m = "name"
    return {
        "/v1/models/{name}:predict": {"post": _operation(
            "v1_predict", "TF Serving predict (production alias)", [m], _V1_BODY, v2=True)},
        "/v1/models/{name}/versions/{version}:predict": {"post": _operation(
            "v1_predict_version", "TF Serving predict with a version", [m, "version"], _V1_BODY, v2=True)},
        "/v1/models/{name}/labels/{label}:predict": {"post": _operation(
            "v1_predict_label", "TF Serving predict through a label (alias)", [m, "label"], _V1_BODY, v2=True)},
        "/v1/models/{name}": {"get": _operation("v1_model", "TF Serving model status", [m], None, v2=True)},
        "/v1/models/{name}/versions/{version}": {"get": _operation(
            "v1_model_version", "TF Serving model status of a version", [m, "version"], None, v2=True)},
        "/v1/models/{name}/labels/{label}": {"get": _operation(
            "v1_model_label", "TF Serving model status of a label (alias)", [m, "label"], None, v2=True)},
    }


def add_serving_paths(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("paths", {}).update(_paths())
    result.setdefault("components", {}).setdefault("securitySchemes", {})["jwtAuth"] = {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    return result
