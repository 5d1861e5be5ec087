"""Predict endpoints (native, MLflow and Open Inference Protocol v2 payloads)."""

from typing import Any

import numpy as np
from django.http import HttpResponse
from rest_framework.request import Request

from core.errors import UnsupportedMediaType
from serving import protocols
from serving.api.base import CsvServingView, ServingView, json_response
from serving.api.serve import serve
from serving.protocols import mlflow
from serving.routing import Choice, ModelRoute, ServedVersion


def _body(request: Request) -> Any:
    if not request.content_type.startswith("application/json"):
        raise UnsupportedMediaType(f"Unsupported media type {request.content_type!r}; send application/json")
    return request.data


def _decode_any(request: Request, served: ServedVersion) -> tuple[str, Any, np.ndarray]:
    body = _body(request)
    protocol = protocols.detect(body)
    return protocol, body, protocols.PROTOCOLS[protocol].decode(body, served.signature)


def _decode_mlflow(request: Request, served: ServedVersion) -> tuple[str, Any, np.ndarray]:
    """MLflow's scoring route: JSON payloads, or CSV with a header row."""
    if request.content_type.startswith("text/csv"):
        return "mlflow", {}, mlflow.decode_csv(request.data, served.signature)
    body = _body(request)
    return "mlflow", body, mlflow.decode(body, served.signature)


def respond_json(protocol: str, route: ModelRoute, served: ServedVersion, body: Any,
                 outputs: dict[str, Any]) -> HttpResponse:
    codec = protocols.PROTOCOLS[protocol]
    return json_response(codec.encode(outputs, model=route.name, version=served.number, body=body))


class VersionPredictView(ServingView):
    def post(self, request: Request, name: str, number: int) -> Any:
        return serve(request, self.caller(request), name, lambda route, key: Choice(route.version(number)), _decode_any,
                     respond_json)


class AliasPredictView(ServingView):
    def post(self, request: Request, name: str, alias: str) -> Any:
        return serve(request, self.caller(request), name, lambda route, key: route.choose(alias, key), _decode_any,
                     respond_json)


class AliasInvocationsView(CsvServingView):
    def post(self, request: Request, name: str, alias: str) -> Any:
        return serve(request, self.caller(request), name, lambda route, key: route.choose(alias, key), _decode_mlflow,
                     respond_json)
