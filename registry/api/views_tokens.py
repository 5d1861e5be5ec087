"""A team's service tokens for automation (CI): list, create (the secret is in this answer only), revoke.

Team owners only: other members get 403, outsiders 404. A service token may list and revoke with an
owner role, but never create tokens (a leaked token cannot make itself a successor).
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import NotFound
from registry.api.base import ApiView, ListView, client_ip
from registry.models import Role, ServiceToken
from registry.permissions import require_team
from registry.selectors import service_tokens_for_team
from registry.services.service_tokens import service_token_create, service_token_revoke


class ServiceTokenSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    account = serializers.CharField(source="account.username", help_text="The service account the token acts as "
                                    "(the actor of its audit events)")
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="To within a minute; null if never seen")
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"])

    class Meta:
        model = ServiceToken
        fields = ["id", "name", "team", "role", "account", "created_by", "created_at", "expires_at", "last_used_at",
                  "state", "revoked_at", "revoked_by"]
        read_only_fields = fields


class ServiceTokenCreatedSerializer(ServiceTokenSerializer):
    token = serializers.CharField(help_text="The secret: send it as 'Authorization: Bearer <token>'. It is shown "
                                  "in this answer only; nothing stores it.")

    class Meta(ServiceTokenSerializer.Meta):
        fields = [*ServiceTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ServiceTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, help_text="Unique among the team's live tokens, e.g. 'ci-deploy'")
    role = serializers.ChoiceField(choices=Role.choices, help_text="At most the creator's role in the team")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                           help_text="Omit or null: the token does not expire")


class ServiceTokenListView(ListView):
    serializer_class = ServiceTokenSerializer

    def scoped_queryset(self) -> QuerySet | list[ServiceToken]:  # type: ignore[override]
        return service_tokens_for_team(team=require_team(self.request.user, self.kwargs["slug"], Role.OWNER))

    @extend_schema(request=ServiceTokenCreateSerializer, responses={201: ServiceTokenCreatedSerializer})
    def post(self, request: Request, slug: str) -> Response:
        team = require_team(request.user, slug, Role.OWNER)
        data = self.valid_data(ServiceTokenCreateSerializer)
        token, secret = service_token_create(actor=request.user, team=team, role=data["role"], name=data["name"],
                                             expires_at=data["expires_at"], ip=client_ip(request))
        token.last_used_at, token.state, token.token = None, "active", secret
        return Response(ServiceTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ServiceTokenDetailView(ApiView):
    serializer_class = ServiceTokenSerializer

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, token_id: int, **kwargs: Any) -> Response:
        """Revoke: refused on every route and process within a second; revoking again is a no-op."""
        team = require_team(request.user, slug, Role.OWNER)
        token = ServiceToken.objects.filter(team=team, pk=token_id).first()
        if token is None:
            raise NotFound(f"Team {slug!r} has no token {token_id}", field="token_id")
        service_token_revoke(actor=request.user, token=token, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
