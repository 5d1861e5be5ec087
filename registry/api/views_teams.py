from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services
from registry.api.base import ApiView, client_ip
from registry.api.serializers import MembershipSerializer, MembershipSetSerializer, TeamCreateSerializer, TeamSerializer
from registry.models import Membership, Role
from registry.permissions import require_team
from registry.selectors import teams_visible


class TeamListView(ApiView):
    serializer_class = TeamSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return teams_visible(self.request.user).order_by("slug")

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TeamSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = self.valid_data(TeamCreateSerializer)
        team = services.team_create(actor=request.user, slug=data["slug"], name=data["name"], ip=client_ip(request))
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamDetailView(ApiView):
    serializer_class = TeamSerializer

    def get(self, request: Request, slug: str) -> Response:
        return Response(TeamSerializer(require_team(request.user, slug, Role.VIEWER)).data)


class MemberListView(ApiView):
    serializer_class = MembershipSerializer

    def get(self, request: Request, slug: str) -> Response:
        team = require_team(request.user, slug, Role.VIEWER)
        members = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
        page = self.paginate_queryset(members)
        return self.get_paginated_response(MembershipSerializer(page, many=True).data)

    def post(self, request: Request, slug: str) -> Response:
        team = require_team(request.user, slug, Role.OWNER)
        data = self.valid_data(MembershipSetSerializer)
        membership = services.membership_set(actor=request.user, team=team, username=data["username"],
                                             role=data["role"], ip=client_ip(request))
        return Response(MembershipSerializer(membership).data, status=status.HTTP_200_OK)


class MemberDetailView(ApiView):
    serializer_class = MembershipSerializer

    def delete(self, request: Request, slug: str, username: str) -> Response:
        team = require_team(request.user, slug, Role.OWNER)
        services.membership_remove(actor=request.user, team=team, username=username, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
