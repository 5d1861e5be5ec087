from typing import Any

from django.db.models import QuerySet
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.client_ip import client_ip

__all__ = ["ApiView", "ListView", "client_ip"]


class ApiView(GenericAPIView):
    """Every API view states its permission; team roles are checked by the selectors it calls."""

    permission_classes = [IsAuthenticated]
    # DRF's OPTIONS metadata calls get_object(), which these views do not use: answer OPTIONS plainly.
    metadata_class = None

    def valid_data(self, serializer_class: type, **kwargs: Any) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class ListView(ListModelMixin, ApiView):
    """A paginated, filterable list; ``scoped_queryset`` authorizes and returns what the caller may see."""

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real request
            return self.serializer_class.Meta.model.objects.none()
        return self.scoped_queryset()

    def scoped_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request)
