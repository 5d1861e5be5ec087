"""Document the error envelope on every operation, so clients and API fuzzing know every answer."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_CODES = ("400", "401", "403", "404", "405", "409", "413", "415", "429")
ENVELOPE = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "field"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "field": {"type": "string", "nullable": True}}}},
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorEnvelope"] = ENVELOPE
    for path, operations in result.get("paths", {}).items():
        if path.startswith("/v2"):
            continue  # the Open Inference Protocol has its own error body, documented with those routes
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code in ERROR_CODES:
                responses.setdefault(code, {"description": "Error", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}})
    return result


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The one authentication class, documented as the bearer JWT it is."""

    target_class = "registry.authentication.TokenAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
