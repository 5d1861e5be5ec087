from django.db.models import Prefetch
from django.http import FileResponse
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services
from registry.api.base import ApiView, client_ip
from registry.api.filters import AuditEventFilter, ModelVersionFilter, RegisteredModelFilter
from registry.api.serializers import (
    AliasSerializer,
    AliasSetSerializer,
    AuditEventSerializer,
    ModelCreateSerializer,
    ModelUpdateSerializer,
    ModelVersionSerializer,
    RegisteredModelSerializer,
    VersionUploadSerializer,
)
from registry.artifacts import artifact_storage
from registry.errors import PayloadTooLarge
from registry.models import ModelAlias, ModelVersion, Role
from registry.permissions import require_team
from registry.selectors import alias_get, audit_visible, model_get_for_user, models_visible, version_get

_ALIASES = Prefetch("aliases", queryset=ModelAlias.objects.select_related("version"))


class ModelListView(ApiView):
    serializer_class = RegisteredModelSerializer
    filterset_class = RegisteredModelFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return models_visible(self.request.user).prefetch_related(_ALIASES)

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RegisteredModelSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = self.valid_data(ModelCreateSerializer)
        team = require_team(request.user, data["team"], Role.MAINTAINER)
        model = services.model_create(actor=request.user, team=team, name=data["name"],
                                      description=data["description"], tags=data["tags"], ip=client_ip(request))
        return Response(RegisteredModelSerializer(model).data, status=status.HTTP_201_CREATED)


class ModelDetailView(ApiView):
    serializer_class = RegisteredModelSerializer

    def get(self, request: Request, name: str) -> Response:
        return Response(RegisteredModelSerializer(model_get_for_user(user=request.user, name=name,
                                                                     role=Role.VIEWER)).data)

    def patch(self, request: Request, name: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        changes = self.valid_data(ModelUpdateSerializer, partial=True)
        model = services.model_update(actor=request.user, model=model, changes=changes, ip=client_ip(request))
        return Response(RegisteredModelSerializer(model).data)


class VersionListView(ApiView):
    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilter
    parser_classes = [MultiPartParser]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return ModelVersion.objects.none()

    def get(self, request: Request, name: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        versions = ModelVersion.objects.filter(model=model).select_related("model", "created_by")
        page = self.paginate_queryset(self.filter_queryset(versions))
        return self.get_paginated_response(ModelVersionSerializer(page, many=True).data)

    def post(self, request: Request, name: str) -> Response:
        """Multipart upload: ``file`` plus optional sha256, signature, input_example, metrics, ..."""
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        self._refuse_oversized(request)
        _ = request.data  # parse now: the upload handler may stop mid-stream and flag the request
        self._refuse_oversized(request)
        data = self.valid_data(VersionUploadSerializer)
        upload = data.pop("file")
        version = services.version_create(actor=request.user, model=model, upload=upload,
                                          meta=services.VersionMetadata(**data), ip=client_ip(request))
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _refuse_oversized(request: Request) -> None:
        from django.conf import settings

        limit = settings.MODELYARD_MAX_UPLOAD_BYTES
        declared = request.META.get("CONTENT_LENGTH") or "0"
        too_large = getattr(request._request, "modelyard_upload_too_large", False)
        if too_large or (declared.isdigit() and int(declared) > limit + 64 * 1024):
            raise PayloadTooLarge(f"The upload exceeds the limit of {limit} bytes", field="file")


class VersionDetailView(ApiView):
    serializer_class = ModelVersionSerializer

    def get(self, request: Request, name: str, number: int) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        return Response(ModelVersionSerializer(version_get(model=model, number=number)).data)


class ArtifactDownloadView(ApiView):
    serializer_class = None

    def get(self, request: Request, name: str, number: int) -> FileResponse:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        version = version_get(model=model, number=number)
        handle = artifact_storage().open(version.storage_key, "rb")
        filename = f"{model.name}-v{version.version}.{version.format}"
        response = FileResponse(handle, as_attachment=True, filename=filename,
                                content_type="application/octet-stream")
        response["X-Checksum-SHA256"] = version.sha256
        return response


class AliasListView(ApiView):
    serializer_class = AliasSerializer

    def get(self, request: Request, name: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        aliases = ModelAlias.objects.filter(model=model).select_related("version", "updated_by")
        page = self.paginate_queryset(aliases)
        return self.get_paginated_response(AliasSerializer(page, many=True).data)


class AliasDetailView(ApiView):
    serializer_class = AliasSerializer

    def get(self, request: Request, name: str, alias: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        return Response(AliasSerializer(alias_get(model=model, name=alias)).data)

    def put(self, request: Request, name: str, alias: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        data = self.valid_data(AliasSetSerializer)
        version = version_get(model=model, number=data["version"])
        moved = services.alias_set(actor=request.user, model=model, name=alias, version=version,
                                   ip=client_ip(request))
        return Response(AliasSerializer(moved).data)

    def delete(self, request: Request, name: str, alias: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        services.alias_delete(actor=request.user, model=model, name=alias, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditListView(ApiView):
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return audit_visible(self.request.user)

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)
