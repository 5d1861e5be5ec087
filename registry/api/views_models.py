from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services
from registry.api.base import ApiView, ListView, client_ip
from registry.api.filters import ModelVersionFilter, RegisteredModelFilter
from registry.api.serializers import (
    ModelCreateSerializer,
    ModelUpdateSerializer,
    ModelVersionSerializer,
    RegisteredModelSerializer,
    VersionUploadSerializer,
)
from registry.artifacts import artifact_open, storage_errors
from registry.models import ModelAlias, ModelVersion, Role
from registry.permissions import require_role, require_team
from registry.selectors import model_get_for_user, models_visible, version_get
from registry.services.deletion import version_delete
from registry.uploads import body_read

_ALIASES = Prefetch("aliases", queryset=ModelAlias.objects.select_related("version"))


class ModelListView(ListView):
    serializer_class = RegisteredModelSerializer
    filterset_class = RegisteredModelFilter

    def scoped_queryset(self) -> QuerySet:
        return models_visible(self.request.user).prefetch_related(_ALIASES)

    @extend_schema(request=ModelCreateSerializer, responses={201: RegisteredModelSerializer})
    def post(self, request: Request) -> Response:
        data = self.valid_data(ModelCreateSerializer)
        team = require_team(request.user, data["team"], Role.MAINTAINER)
        model = services.model_create(actor=request.user, team=team, name=data["name"],
                                      description=data["description"], tags=data["tags"], ip=client_ip(request))
        return Response(RegisteredModelSerializer(model).data, status=status.HTTP_201_CREATED)


class ModelDetailView(ApiView):
    serializer_class = RegisteredModelSerializer

    def get(self, request: Request, name: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        return Response(RegisteredModelSerializer(model).data)

    @extend_schema(request=ModelUpdateSerializer, responses={200: RegisteredModelSerializer})
    def patch(self, request: Request, name: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        changes = self.valid_data(ModelUpdateSerializer, partial=True)
        if "protected_aliases" in changes:  # else a maintainer could lift the four-eyes rule alone
            require_role(request.user, model.team_id, Role.OWNER)
        model = services.model_update(actor=request.user, model=model, changes=changes, ip=client_ip(request))
        return Response(RegisteredModelSerializer(model).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, name: str) -> Response:
        """Only a model that never had a version (409 otherwise): its name becomes free again."""
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        services.model_delete(actor=request.user, model=model, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionListView(ListView):
    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilter
    parser_classes = [MultiPartParser]

    def scoped_queryset(self) -> QuerySet:
        model = model_get_for_user(user=self.request.user, name=self.kwargs["name"], role=Role.VIEWER)
        # The list leaves out the heavy fields: don't even read them.
        return (ModelVersion.objects.filter(model=model).select_related("model", "created_by")
                .defer("input_example", "params"))

    @extend_schema(request={"multipart/form-data": VersionUploadSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                                                description="A retry with the same key and file answers 200 with "
                                                            "the version the first upload made")],
                   responses={201: ModelVersionSerializer, 200: ModelVersionSerializer})
    def post(self, request: Request, name: str) -> Response:
        """Multipart upload: ``file`` plus optional sha256, signature, input_example, metrics, ..."""
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        body_read(request._request, lambda: request.data)
        data = self.valid_data(VersionUploadSerializer)
        upload = data.pop("file")
        meta = services.VersionMetadata(**data, idempotency_key=request.META.get("HTTP_IDEMPOTENCY_KEY"))
        version = services.version_create(actor=request.user, model=model, upload=upload, meta=meta,
                                          ip=client_ip(request))
        replayed = getattr(version, "replayed", False)
        return Response(ModelVersionSerializer(version).data,
                        status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


class VersionDetailView(ApiView):
    serializer_class = ModelVersionSerializer

    def get(self, request: Request, name: str, number: int) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        return Response(ModelVersionSerializer(version_get(model=model, number=number)).data)

    @extend_schema(responses={200: ModelVersionSerializer})
    def delete(self, request: Request, name: str, number: int) -> Response:
        """A tombstone at once (409 while an alias, rollout or job uses it); files after the retention."""
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        version = version_delete(actor=request.user, version=version_get(model=model, number=number),
                                 ip=client_ip(request))
        return Response(ModelVersionSerializer(version).data)


class ArtifactDownloadView(ApiView):
    serializer_class = ModelVersionSerializer

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, name: str, number: int) -> FileResponse:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        return artifact_response(version_get(model=model, number=number))


def artifact_response(version: ModelVersion) -> FileResponse:
    """The uploaded file as it was (decrypted when sealed), for the API and the console alike."""
    with storage_errors("read the artifact"):  # an outage is a retryable 503, never a 500
        handle = artifact_open(version.storage_key)
    filename = f"{version.model.name}-v{version.version}.{version.format}"
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/octet-stream")
    response["X-Checksum-SHA256"] = version.sha256
    return response
