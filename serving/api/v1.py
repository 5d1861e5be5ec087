"""TensorFlow Serving's REST API (KServe's "v1" protocol), so TF Serving and KServe callers switch unchanged.

``/v1/models/{name}`` names a model as the v2 routes do (its registry name; the caller must be in its
team, outsiders get a 404). Without a version or label a request goes to the ``production`` alias, with
its rollout split, like v2; TF Serving's labels are Modelyard's aliases.
"""

from typing import Any

from django.http import HttpResponseBase
from rest_framework.request import Request
from rest_framework.response import Response

from core.codecs import loads
from core.errors import Unavailable, UnsupportedMediaType
from registry.models import VersionStatus
from serving.api.base import V2View, json_response
from serving.api.serve import serve
from serving.api.serve import visible as _visible
from serving.api.v2 import _chosen, _raw_body, _served  # the v2 routes' defaults and body reader, shared
from serving.protocols import tfserving
from serving.routing import Choice, ModelRoute, ServedVersion

# TF Serving's version states (ModelVersionStatus.State).
_STATES = {VersionStatus.READY: "AVAILABLE", VersionStatus.PENDING: "START", VersionStatus.VALIDATING: "LOADING"}


# TF Serving reads every body as JSON: its documentation's `curl -d '{"instances": ...}'` sends curl's
# default form type, or none. Those bodies are read as JSON too (bounded like every predict body).
_JSON_AS_SENT = ("", "application/x-www-form-urlencoded", "text/plain")


def _decode(request: Request, served: ServedVersion) -> tuple[str, Any, Any]:
    if request.content_type.startswith("application/json"):
        body = request.data
    elif request.content_type.split(";")[0].strip() in _JSON_AS_SENT:
        body = loads(_raw_body(request))
    else:
        raise UnsupportedMediaType(f"Unsupported media type {request.content_type!r}; send application/json")
    return "tfserving", body, tfserving.decode(body, served.signature)


def _respond(protocol: str, route: ModelRoute, served: ServedVersion, body: Any,
             outputs: dict[str, Any]) -> HttpResponseBase:
    return json_response(tfserving.encode(outputs, body))


def _status(number: int, served: ServedVersion) -> dict[str, Any]:
    ok = served.status == VersionStatus.READY
    return {"version": str(number), "state": _STATES.get(served.status, "END"),
            "status": {"error_code": "OK" if ok else "UNAVAILABLE", "error_message": "" if ok else served.status}}


# TF Serving's errors are {"error": "<message>"}: the v2 views' error handler says it that way.
class PredictView(V2View):
    def post(self, request: Request, name: str, version: str | None = None, label: str | None = None) -> Any:
        def pick(route: ModelRoute, key: str) -> Choice:
            return route.choose(label, key) if label is not None else _chosen(route, version, key)

        return serve(request, self.caller(request), name, pick, _decode, _respond)


class ModelStatusView(V2View):
    """TF Serving's model status; ``ready`` is KServe's v1 readiness (a 503 while not ready)."""

    def get(self, request: Request, name: str, version: str | None = None, label: str | None = None) -> Response:
        route = _visible(self.caller(request), name)
        served = route.alias(label) if label is not None else _served(route, version)
        ready = served.status == VersionStatus.READY
        body = {"name": name, "ready": ready, "model_version_status": [_status(served.number, served)]}
        if version is None and label is None:  # the model: every version it has
            body["model_version_status"] = [_status(n, v) for n, v in sorted(route.versions.items())
                                            if v.status != VersionStatus.DELETED]
        if not ready:
            raise Unavailable(f"Version {served.number} of {name!r} is {served.status}", code="model_not_ready")
        return Response(body)
