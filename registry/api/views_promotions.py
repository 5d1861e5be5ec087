"""Promotion requests: maintainers ask, another maintainer or owner decides, viewers read, outsiders get 404."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services
from registry.api.base import ApiView, ListView, client_ip
from registry.api.serializers_promotions import (
    PromotionCreateSerializer,
    PromotionReasonSerializer,
    PromotionRejectSerializer,
    PromotionRequestSerializer,
)
from registry.models import PromotionRequest, PromotionStatus, Role
from registry.selectors import aliases_now, model_get_for_user, promotion_get_for_user, promotions_visible, version_get


class ModelPromotionFilter(django_filters.FilterSet):
    alias = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=PromotionStatus.choices)

    class Meta:
        model = PromotionRequest
        fields = ["alias", "status"]


class PromotionFilter(ModelPromotionFilter):
    model = django_filters.CharFilter(field_name="model__name")

    class Meta:
        model = PromotionRequest
        fields = ["model", "alias", "status"]


class _PromotionList(ListView):
    serializer_class = PromotionRequestSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.BaseSerializer:
        if kwargs.get("many") and args:  # a page: every alias it shows, in one query
            kwargs["context"] = {**self.get_serializer_context(), "aliases": aliases_now(args[0])}
        return super().get_serializer(*args, **kwargs)


class PromotionListView(_PromotionList):
    """Requests in every team the caller belongs to (staff: all), newest first."""

    filterset_class = PromotionFilter

    def scoped_queryset(self) -> QuerySet:
        return promotions_visible(self.request.user)


class ModelPromotionListView(_PromotionList):
    filterset_class = ModelPromotionFilter

    def scoped_queryset(self) -> QuerySet:
        model = model_get_for_user(user=self.request.user, name=self.kwargs["name"], role=Role.VIEWER)
        return promotions_visible(self.request.user).filter(model=model)

    @extend_schema(request=PromotionCreateSerializer, responses={201: PromotionRequestSerializer})
    def post(self, request: Request, name: str) -> Response:
        """409 if the version is not ready, the alias points there already, or a request on it is open."""
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        data = self.valid_data(PromotionCreateSerializer)
        version = version_get(model=model, number=data["version"])
        promotion = services.promotion_request(actor=request.user, model=model, alias=data["alias"], version=version,
                                               reason=data["reason"], purpose=data["purpose"], ip=client_ip(request))
        return Response(PromotionRequestSerializer(_reloaded(promotion, request)).data,
                        status=status.HTTP_201_CREATED)


def _reloaded(promotion: PromotionRequest, request: Request) -> PromotionRequest:
    """The request as the selectors read it (relations loaded), after a service changed it."""
    return promotions_visible(request.user).get(pk=promotion.pk)


class PromotionDetailView(ApiView):
    serializer_class = PromotionRequestSerializer

    def get(self, request: Request, pk: int) -> Response:
        promotion = promotion_get_for_user(user=request.user, pk=pk, role=Role.VIEWER)
        return Response(PromotionRequestSerializer(promotion).data)


class PromotionApproveView(ApiView):
    serializer_class = PromotionRequestSerializer

    @extend_schema(request=PromotionReasonSerializer, responses={200: PromotionRequestSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """A maintainer or owner other than the requester; a move request moves the alias at once.
        409 if the request is not open, is stale, or its version is no longer ready."""
        promotion = promotion_get_for_user(user=request.user, pk=pk, role=Role.MAINTAINER)
        data = self.valid_data(PromotionReasonSerializer)
        promotion = services.promotion_approve(actor=request.user, promotion=promotion, reason=data["reason"],
                                               ip=client_ip(request))
        return Response(PromotionRequestSerializer(_reloaded(promotion, request)).data)


class PromotionRejectView(ApiView):
    serializer_class = PromotionRequestSerializer

    @extend_schema(request=PromotionRejectSerializer, responses={200: PromotionRequestSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """A maintainer or owner other than the requester, with a reason; 409 if the request is not open."""
        promotion = promotion_get_for_user(user=request.user, pk=pk, role=Role.MAINTAINER)
        data = self.valid_data(PromotionRejectSerializer)
        promotion = services.promotion_reject(actor=request.user, promotion=promotion, reason=data["reason"],
                                              ip=client_ip(request))
        return Response(PromotionRequestSerializer(_reloaded(promotion, request)).data)


class PromotionCancelView(ApiView):
    serializer_class = PromotionRequestSerializer

    @extend_schema(request=PromotionReasonSerializer, responses={200: PromotionRequestSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """The requester withdraws their own open request (a maintainer still); 409 if it is not open."""
        promotion = promotion_get_for_user(user=request.user, pk=pk, role=Role.MAINTAINER)
        data = self.valid_data(PromotionReasonSerializer)
        promotion = services.promotion_cancel(actor=request.user, promotion=promotion, reason=data["reason"],
                                              ip=client_ip(request))
        return Response(PromotionRequestSerializer(_reloaded(promotion, request)).data)
