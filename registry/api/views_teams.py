from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services
from registry.api.base import ApiView, ListView, client_ip
from registry.api.serializers import MembershipSerializer, MembershipSetSerializer, TeamCreateSerializer, TeamSerializer
from registry.models import Membership, Role
from registry.permissions import require_team
from registry.selectors import teams_visible


class TeamListView(ListView):
    serializer_class = TeamSerializer

    def scoped_queryset(self) -> QuerySet:
        return teams_visible(self.request.user).order_by("slug")

    @extend_schema(request=TeamCreateSerializer, responses={201: TeamSerializer})
    def post(self, request: Request) -> Response:
        data = self.valid_data(TeamCreateSerializer)
        team = services.team_create(actor=request.user, slug=data["slug"], name=data["name"], ip=client_ip(request))
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamDetailView(ApiView):
    serializer_class = TeamSerializer

    def get(self, request: Request, slug: str) -> Response:
        return Response(TeamSerializer(require_team(request.user, slug, Role.VIEWER)).data)


class MemberListView(ListView):
    serializer_class = MembershipSerializer

    def scoped_queryset(self) -> QuerySet:
        team = require_team(self.request.user, self.kwargs["slug"], Role.VIEWER)
        return Membership.objects.filter(team=team).select_related("user").order_by("user__username")

    @extend_schema(request=MembershipSetSerializer, responses={200: MembershipSerializer})
    def post(self, request: Request, slug: str) -> Response:
        team = require_team(request.user, slug, Role.OWNER)
        data = self.valid_data(MembershipSetSerializer)
        membership = services.membership_set(actor=request.user, team=team, username=data["username"],
                                             role=data["role"], ip=client_ip(request))
        return Response(MembershipSerializer(membership).data, status=status.HTTP_200_OK)


class MemberDetailView(ApiView):
    serializer_class = MembershipSerializer

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, username: str) -> Response:
        team = require_team(request.user, slug, Role.OWNER)
        services.membership_remove(actor=request.user, team=team, username=username, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
