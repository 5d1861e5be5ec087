"""Rollout routes: views parse, authorize (model role first, so outsiders learn nothing), call one service, render."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.base import ApiView, ListView, client_ip
from registry.models import Role
from registry.selectors import model_get_for_user
from rollouts import services, timeline
from rollouts.api.filters import RolloutFilter
from rollouts.api.serializers import (
    RolloutActionSerializer,
    RolloutCreateSerializer,
    RolloutDetailSerializer,
    RolloutSerializer,
    TimelineSerializer,
)
from rollouts.api.timeline_params import TimelineQuerySerializer
from rollouts.models import Rollout
from rollouts.selectors import rollout_get, rollouts_visible


class RolloutListView(ListView):
    """Every rollout the caller may see, filtered by model, alias and status."""

    serializer_class = RolloutSerializer
    filterset_class = RolloutFilter

    def scoped_queryset(self) -> QuerySet:
        return rollouts_visible(self.request.user)


class ModelRolloutListView(ListView):
    serializer_class = RolloutSerializer
    filterset_class = RolloutFilter

    def scoped_queryset(self) -> QuerySet:
        model = model_get_for_user(user=self.request.user, name=self.kwargs["name"], role=Role.VIEWER)
        return rollouts_visible(self.request.user).filter(model=model)

    @extend_schema(request=RolloutCreateSerializer, responses={201: RolloutDetailSerializer})
    def post(self, request: Request, name: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        data = self.valid_data(RolloutCreateSerializer)
        rollout = services.rollout_create(actor=request.user, model=model, ip=client_ip(request), **data)
        return Response(RolloutDetailSerializer(rollout).data, status=status.HTTP_201_CREATED)


class RolloutDetailView(ApiView):
    serializer_class = RolloutDetailSerializer

    def get(self, request: Request, name: str, rollout_id: int) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        return Response(RolloutDetailSerializer(rollout_get(model=model, rollout_id=rollout_id)).data)


ACTIONS = {"pause": services.rollout_pause, "resume": services.rollout_resume,
           "promote": services.rollout_promote, "rollback": services.rollout_rollback,
           "abort": services.rollout_abort}


class RolloutActionView(ApiView):
    """pause, resume, promote (now), rollback (now), abort: a maintainer's decision, audited."""

    serializer_class = RolloutActionSerializer
    action: str = ""

    @extend_schema(request=RolloutActionSerializer, responses={200: RolloutDetailSerializer})
    def post(self, request: Request, name: str, rollout_id: int) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
        rollout: Rollout = rollout_get(model=model, rollout_id=rollout_id)
        data = self.valid_data(RolloutActionSerializer)
        done = ACTIONS[self.action](actor=request.user, rollout=rollout, reason=data["reason"], ip=client_ip(request))
        return Response(RolloutDetailSerializer(done).data)


class TimelineView(ApiView):
    serializer_class = TimelineSerializer

    @extend_schema(parameters=[OpenApiParameter("alias", str, default="production"),
                               OpenApiParameter("at", str, description="ISO 8601 time; without it, every interval")],
                   responses={200: TimelineSerializer})
    def get(self, request: Request, name: str) -> Response:
        model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
        query = TimelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        alias, moment = query.validated_data["alias"], query.validated_data.get("at")
        found = timeline.intervals(model, alias)
        interval = timeline.containing(found, moment) if moment is not None else None
        return Response(TimelineSerializer({"model": name, "alias": alias, "at": moment, "interval": interval,
                                            "intervals": found}).data)
