"""Predict endpoints (native, MLflow and Open Inference Protocol v2 payloads)."""

from typing import Any

import numpy as np
from django.http import HttpRequest, HttpResponse

from serving import protocols
from serving.access import Caller
from serving.api.hot import endpoint, json_response, read_body, read_json
from serving.api.serve import serve
from serving.protocols import mlflow
from serving.routing import ModelRoute, ServedVersion


def _decode_any(request: HttpRequest, served: ServedVersion) -> tuple[str, Any, np.ndarray]:
    body = read_json(request)
    protocol = protocols.detect(body)
    return protocol, body, protocols.PROTOCOLS[protocol].decode(body, served.signature)


def _decode_mlflow(request: HttpRequest, served: ServedVersion) -> tuple[str, Any, np.ndarray]:
    """MLflow's scoring route: JSON payloads, or CSV with a header row."""
    if request.content_type == "text/csv":
        return "mlflow", {}, mlflow.decode_csv(read_body(request).decode("utf-8", errors="replace"), served.signature)
    body = read_json(request)
    return "mlflow", body, mlflow.decode(body, served.signature)


def respond_json(protocol: str, route: ModelRoute, served: ServedVersion, body: Any,
                 outputs: dict[str, Any]) -> HttpResponse:
    codec = protocols.PROTOCOLS[protocol]
    return json_response(codec.encode(outputs, model=route.name, version=served.number, body=body))


@endpoint(methods=("POST",))
def version_predict(request: HttpRequest, caller: Caller, name: str, number: int) -> HttpResponse:
    return serve(request, caller, name, lambda route: route.version(number), _decode_any, respond_json)


@endpoint(methods=("POST",))
def alias_predict(request: HttpRequest, caller: Caller, name: str, alias: str) -> HttpResponse:
    return serve(request, caller, name, lambda route: route.alias(alias), _decode_any, respond_json)


@endpoint(methods=("POST",))
def alias_invocations(request: HttpRequest, caller: Caller, name: str, alias: str) -> HttpResponse:
    return serve(request, caller, name, lambda route: route.alias(alias), _decode_mlflow, respond_json)
