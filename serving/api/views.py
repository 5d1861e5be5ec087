from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.base import ApiView
from registry.models import Role
from registry.selectors import alias_get, model_get_for_user, version_get
from serving.codecs import OrjsonParser, OrjsonRenderer
from serving.prediction import version_predict


class PredictView(ApiView):
    """Base for predict routes: JSON in and out through orjson; needs the predictor role."""

    parser_classes = [OrjsonParser]
    renderer_classes = [OrjsonRenderer]
    serializer_class = None


class VersionPredictView(PredictView):
    def post(self, request: Request, name: str, number: int) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.PREDICTOR)
        return Response(version_predict(version=version_get(model=model, number=number), payload=request.data))


class AliasPredictView(PredictView):
    def post(self, request: Request, name: str, alias: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.PREDICTOR)
        return Response(version_predict(version=alias_get(model=model, name=alias).version, payload=request.data))
