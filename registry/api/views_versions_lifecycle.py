"""Archive and restore a version: maintainers take a ready version out of service and bring it back."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services
from registry.api.base import ApiView, client_ip
from registry.api.serializers import ModelVersionSerializer
from registry.models import Role
from registry.selectors import model_get_for_user, version_get


class VersionArchiveView(ApiView):
    serializer_class = ModelVersionSerializer

    @extend_schema(request=None, responses={200: ModelVersionSerializer})
    def post(self, request: Request, name: str, number: int) -> Response:
        """409 if an alias points at the version, or it is not ready (an archived one included)."""
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        version = services.version_archive(actor=request.user, version=version_get(model=model, number=number),
                                           ip=client_ip(request))
        return Response(ModelVersionSerializer(version).data)


class VersionRestoreView(ApiView):
    serializer_class = ModelVersionSerializer

    @extend_schema(request=None, responses={200: ModelVersionSerializer})
    def post(self, request: Request, name: str, number: int) -> Response:
        """Back to ready; 409 if the version is not archived."""
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        version = services.version_restore(actor=request.user, version=version_get(model=model, number=number),
                                           ip=client_ip(request))
        return Response(ModelVersionSerializer(version).data)
