from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services
from registry.api.base import ApiView, ListView, client_ip
from registry.api.filters import AuditEventFilter
from registry.api.serializers import AliasSerializer, AliasSetSerializer, AuditEventSerializer
from registry.models import ModelAlias, Role
from registry.selectors import alias_get, audit_visible, model_get_for_user, version_get


class AliasListView(ListView):
    serializer_class = AliasSerializer

    def scoped_queryset(self) -> QuerySet:
        model = model_get_for_user(user=self.request.user, name=self.kwargs["name"], role=Role.VIEWER)
        return ModelAlias.objects.filter(model=model).select_related("version", "updated_by")


class AliasDetailView(ApiView):
    serializer_class = AliasSerializer

    def get(self, request: Request, name: str, alias: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        return Response(AliasSerializer(alias_get(model=model, name=alias)).data)

    @extend_schema(request=AliasSetSerializer, responses={200: AliasSerializer})
    def put(self, request: Request, name: str, alias: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        data = self.valid_data(AliasSetSerializer)
        version = version_get(model=model, number=data["version"])
        moved = services.alias_set(actor=request.user, model=model, name=alias, version=version,
                                   ip=client_ip(request))
        return Response(AliasSerializer(moved).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, name: str, alias: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        services.alias_delete(actor=request.user, model=model, name=alias, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditListView(ListView):
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def scoped_queryset(self) -> QuerySet:
        return audit_visible(self.request.user)
