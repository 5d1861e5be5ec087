"""Open Inference Protocol v2 routes, so Triton's and KServe's clients work with a bearer token."""

from typing import Any

import numpy as np
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseBase
from rest_framework.request import Request
from rest_framework.response import Response

from core.codecs import loads
from core.errors import ModelyardError, NotFound, PayloadTooLarge, UnsupportedMediaType
from registry.models import VersionStatus
from serving import warmup
from serving.api.base import PublicV2View, V2View, json_response, predict_body_limit
from serving.api.serve import serve
from serving.api.serve import visible as _visible
from serving.protocols import v2
from serving.routing import Choice, ModelRoute, ServedVersion

_OUTPUT_TYPES = {"labels": "INT64", "ids": "INT64"}
# What answers, in Triton's platform names where it has one.
_PLATFORMS = {"onnx": "onnxruntime_onnx", "torchscript": "pytorch_libtorch", "savedmodel": "tensorflow_savedmodel",
              "pt2": "pytorch_libtorch", "xgboost": "xgboost", "lightgbm": "lightgbm"}


def _served(route: ModelRoute, version: str | None) -> ServedVersion:
    """No version means the model's default: its ``production`` alias."""
    if version is None:
        return route.alias("production")
    if not (version.isascii() and version.isdigit()) or len(version) > 9:
        raise NotFound(f"Model {route.name!r} has no version {version!r}")
    return route.version(int(version))


def _chosen(route: ModelRoute, version: str | None, key: str) -> Choice:
    """Inference on the default version follows the ``production`` alias's rollout split."""
    return route.choose("production", key) if version is None else Choice(_served(route, version))


class ServerMetadataView(PublicV2View):
    def get(self, request: Request) -> Response:
        return Response({"name": "modelyard", "version": "1", "extensions": []})


class LiveView(PublicV2View):
    def get(self, request: Request) -> Response:
        return Response({"live": True})


class ReadyView(PublicV2View):
    def get(self, request: Request) -> Response:
        is_ready = warmup.is_ready()
        return Response({"ready": is_ready}, 200 if is_ready else 503)


def _metadata(route: ModelRoute, served: ServedVersion) -> dict[str, Any]:
    spec = served.signature.get("inputs") or {}
    dtype = {"float32": "FP32", "float64": "FP64", "int64": "INT64", "int32": "INT32"}.get(spec.get("dtype"), "FP64")
    ready_versions = [str(n) for n, v in sorted(route.versions.items()) if v.status == VersionStatus.READY]
    return {
        "name": route.name,
        "versions": ready_versions,
        "platform": _PLATFORMS.get(served.ref.format, "sklearn"),
        "inputs": [{"name": "input-0", "datatype": dtype, "shape": [-1, spec.get("features") or -1]}],
        "outputs": [{"name": name, "datatype": _OUTPUT_TYPES.get(name, "FP32"), "shape": [-1]}
                    for name in served.signature.get("outputs", [])],
    }


class ModelMetadataView(V2View):
    def get(self, request: Request, name: str, version: str | None = None) -> Response:
        route = _visible(self.caller(request), name)
        return Response(_metadata(route, _served(route, version)))


class ModelReadyView(V2View):
    def get(self, request: Request, name: str, version: str | None = None) -> Response:
        route = _visible(self.caller(request), name)
        served = _served(route, version)
        if served.status != VersionStatus.READY:
            raise ModelyardError(f"Version {served.number} of {name!r} is {served.status}", code="model_not_ready")
        return Response({"name": name, "ready": True})


class InferView(V2View):
    def post(self, request: Request, name: str, version: str | None = None) -> HttpResponseBase:
        return serve(request, self.caller(request), name, lambda route, key: _chosen(route, version, key), _decode,
                     _respond)


def _raw_body(request: Request) -> bytes:
    """Triton's binary extension is a JSON header followed by raw tensors: read the body as bytes."""
    limit = predict_body_limit()
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
    try:
        return request.body
    except RequestDataTooBig:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes") from None


def _decode(request: Request, served: ServedVersion) -> tuple[str, Any, np.ndarray]:
    header_length = request.META.get("HTTP_INFERENCE_HEADER_CONTENT_LENGTH")
    if header_length is None:
        if not request.content_type.startswith("application/json"):
            raise UnsupportedMediaType(f"Unsupported media type {request.content_type!r}; send application/json")
        body, binary = request.data, b""
    else:
        raw_header, binary = v2.split_binary(_raw_body(request), header_length)
        body = loads(raw_header)
    return "v2", body, v2.decode(body, served.signature, binary)


def _respond(protocol: str, route: ModelRoute, served: ServedVersion, body: Any,
             outputs: dict[str, Any]) -> HttpResponseBase:
    response = v2.encode(outputs, model=route.name, version=served.number, body=body)
    if not v2.wants_binary(body):
        return json_response(response)
    payload, header_size = v2.binary_body(response)
    http = HttpResponse(payload, content_type="application/octet-stream")
    http["Inference-Header-Content-Length"] = str(header_size)
    return http
