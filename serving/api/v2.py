"""Open Inference Protocol v2 routes, so Triton's and KServe's clients work with a bearer token."""

from typing import Any

import numpy as np
from django.http import HttpRequest, HttpResponse

from core.errors import ModelyardError, NotFound
from registry.models import VersionStatus
from serving import warmup
from serving.access import Caller
from serving.api.hot import endpoint, json_response, parse_json, read_body, read_json
from serving.api.serve import serve
from serving.api.serve import visible as _visible
from serving.protocols import v2
from serving.routing import ModelRoute, ServedVersion

_OUTPUT_TYPES = {"labels": "INT64", "ids": "INT64"}


def _served(route: ModelRoute, version: str | None) -> ServedVersion:
    """No version means the model's default: its ``production`` alias."""
    if version is None:
        return route.alias("production")
    if not (version.isascii() and version.isdigit()) or len(version) > 9:
        raise NotFound(f"Model {route.name!r} has no version {version!r}")
    return route.version(int(version))


@endpoint(methods=("GET",), public=True, v2=True)
def server_metadata(request: HttpRequest, caller: None) -> HttpResponse:
    return json_response({"name": "modelyard", "version": "1", "extensions": []})


@endpoint(methods=("GET",), public=True, v2=True)
def live(request: HttpRequest, caller: None) -> HttpResponse:
    return json_response({"live": True})


@endpoint(methods=("GET",), public=True, v2=True)
def ready(request: HttpRequest, caller: None) -> HttpResponse:
    is_ready = warmup.is_ready()
    return json_response({"ready": is_ready}, 200 if is_ready else 503)


def _metadata(route: ModelRoute, served: ServedVersion) -> dict[str, Any]:
    spec = served.signature.get("inputs") or {}
    dtype = {"float32": "FP32", "float64": "FP64", "int64": "INT64", "int32": "INT32"}.get(spec.get("dtype"), "FP64")
    ready_versions = [str(n) for n, v in sorted(route.versions.items()) if v.status == VersionStatus.READY]
    return {
        "name": route.name,
        "versions": ready_versions,
        "platform": "onnxruntime_onnx" if served.ref.format == "onnx" else "sklearn",
        "inputs": [{"name": "input-0", "datatype": dtype, "shape": [-1, spec.get("features") or -1]}],
        "outputs": [{"name": name, "datatype": _OUTPUT_TYPES.get(name, "FP32"), "shape": [-1]}
                    for name in served.signature.get("outputs", [])],
    }


@endpoint(methods=("GET",), v2=True)
def model_metadata(request: HttpRequest, caller: Caller, name: str, version: str | None = None) -> HttpResponse:
    route = _visible(caller, name)
    return json_response(_metadata(route, _served(route, version)))


@endpoint(methods=("GET",), v2=True)
def model_ready(request: HttpRequest, caller: Caller, name: str, version: str | None = None) -> HttpResponse:
    route = _visible(caller, name)
    served = _served(route, version)
    if served.status != VersionStatus.READY:
        raise ModelyardError(f"Version {served.number} of {name!r} is {served.status}", code="model_not_ready")
    return json_response({"name": name, "ready": True})


@endpoint(methods=("POST",), v2=True)
def infer(request: HttpRequest, caller: Caller, name: str, version: str | None = None) -> HttpResponse:
    return serve(request, caller, name, lambda route: _served(route, version), _decode, _respond)


def _decode(request: HttpRequest, served: ServedVersion) -> tuple[str, Any, np.ndarray]:
    header_length = request.META.get("HTTP_INFERENCE_HEADER_CONTENT_LENGTH")
    if header_length is None:
        body, binary = read_json(request), b""
    else:
        raw_header, binary = v2.split_binary(read_body(request), header_length)
        body = parse_json(raw_header)
    return "v2", body, v2.decode(body, served.signature, binary)


def _respond(protocol: str, route: ModelRoute, served: ServedVersion, body: Any,
             outputs: dict[str, Any]) -> HttpResponse:
    response = v2.encode(outputs, model=route.name, version=served.number, body=body)
    if not v2.wants_binary(body):
        return json_response(response)
    payload, header_size = v2.binary_body(response)
    http = HttpResponse(payload, content_type="application/octet-stream")
    http["Inference-Header-Content-Length"] = str(header_size)
    return http
