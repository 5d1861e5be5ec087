"""One predict view over models loaded at import, the least work a Django view can do for a prediction.

Model files come from the environment (BENCH_FLOOR_ONNX, BENCH_FLOOR_SKOPS); the URL's model name picks
one. The JSON library is orjson, as in Modelyard, so the difference measured is Modelyard's own work.
"""

import os
from typing import Any, Protocol

import numpy as np
import orjson
from django.http import HttpRequest, HttpResponse


class Model(Protocol):
    def predict(self, inputs: Any) -> dict[str, Any]: ...


class OnnxModel:
    def __init__(self, path: str) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # One thread per session, as in Modelyard: gunicorn already runs requests in parallel.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def predict(self, inputs: Any) -> dict[str, Any]:
        labels, probabilities = self.session.run(None, {self.input_name: np.asarray(inputs, dtype=np.float32)})
        return {"labels": labels, "probabilities": probabilities}


class SklearnModel:
    def __init__(self, path: str) -> None:
        import skops.io as sio

        self.estimator = sio.load(path, trusted=sio.get_untrusted_types(file=path))

    def predict(self, inputs: Any) -> dict[str, Any]:
        probabilities = self.estimator.predict_proba(np.asarray(inputs, dtype=np.float64))
        return {"labels": self.estimator.classes_[np.argmax(probabilities, axis=1)], "probabilities": probabilities}


def _load() -> dict[str, Model]:
    models: dict[str, Model] = {}
    if os.environ.get("BENCH_FLOOR_ONNX"):
        models["bench-onnx"] = OnnxModel(os.environ["BENCH_FLOOR_ONNX"])
    if os.environ.get("BENCH_FLOOR_SKOPS"):
        models["bench-sklearn"] = SklearnModel(os.environ["BENCH_FLOOR_SKOPS"])
    return models


# Loaded at import, in each gunicorn worker (preload_app is off), so no request pays for a load.
MODELS = _load()


def predict(request: HttpRequest, name: str, alias: str) -> HttpResponse:
    model = MODELS.get(name)
    if model is None:
        return HttpResponse(status=404)
    outputs = model.predict(orjson.loads(request.body)["inputs"])
    body = orjson.dumps({"model": name, "version": 1, "outputs": outputs}, option=orjson.OPT_SERIALIZE_NUMPY)
    return HttpResponse(body, content_type="application/json")


def readyz(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"status": "ready"}', content_type="application/json")
