"""Predict endpoints (native, MLflow and Open Inference Protocol v2 payloads)."""

from typing import Any

from django.http import HttpRequest, HttpResponse

from registry.errors import Unavailable
from registry.models import Role
from serving import engine, metrics, protocols
from serving.access import Caller
from serving.api.hot import endpoint, json_response, read_body, read_json
from serving.protocols import mlflow
from serving.routing import ModelRoute, ServedVersion, route_for


def _answer(route: ModelRoute, served: ServedVersion, protocol: str, body: Any, batch: Any) -> HttpResponse:
    outputs = engine.predict(route, served, batch)
    metrics.PREDICTIONS.labels(route.name, served.number, protocol).inc()
    codec = protocols.PROTOCOLS[protocol]
    return json_response(codec.encode(outputs, model=route.name, version=served.number, body=body))


def _predict(request: HttpRequest, caller: Caller, route: ModelRoute, served: ServedVersion) -> HttpResponse:
    caller.require(route.team_id, Role.PREDICTOR, f"Model {route.name!r} not found")
    served.require_ready(route.name)
    body = read_json(request)
    protocol = protocols.detect(body)
    batch = protocols.PROTOCOLS[protocol].decode(body, served.signature)
    return _answer(route, served, protocol, body, batch)


def _visible(caller: Caller, name: str) -> ModelRoute:
    """The route, once the caller is known to be in its team: outsiders learn nothing."""
    route = route_for(name)
    caller.require(route.team_id, Role.VIEWER, f"Model {name!r} not found")
    return route


@endpoint(methods=("POST",))
def version_predict(request: HttpRequest, caller: Caller, name: str, number: int) -> HttpResponse:
    route = _visible(caller, name)
    return _predict(request, caller, route, route.version(number))


@endpoint(methods=("POST",))
def alias_predict(request: HttpRequest, caller: Caller, name: str, alias: str) -> HttpResponse:
    route = _visible(caller, name)
    try:
        return _predict(request, caller, route, route.alias(alias))
    except Unavailable as exc:
        if exc.code != "artifact_integrity":
            raise
        # The version was just quarantined; the reloaded route sends this call to the last good one.
        route = route_for(name)
        return _predict(request, caller, route, route.alias(alias))


@endpoint(methods=("POST",))
def alias_invocations(request: HttpRequest, caller: Caller, name: str, alias: str) -> HttpResponse:
    """MLflow's scoring route: JSON payloads, or CSV with a header row."""
    route = _visible(caller, name)
    caller.require(route.team_id, Role.PREDICTOR, f"Model {name!r} not found")
    served = route.alias(alias)
    served.require_ready(name)
    if request.content_type == "text/csv":
        body: Any = {}
        batch = mlflow.decode_csv(read_body(request).decode("utf-8", errors="replace"), served.signature)
    else:
        body = read_json(request)
        batch = mlflow.decode(body, served.signature)
    return _answer(route, served, "mlflow", body, batch)
