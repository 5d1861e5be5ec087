"""Sign out everywhere: the caller's own tokens, all of them, on every route."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.base import ApiView, client_ip
from registry.services.sessions import sessions_revoke_all

_REVOKED = inline_serializer("SessionsRevoked", {"revoked": serializers.BooleanField()})


class RevokeAllView(ApiView):
    """Every access and refresh token of the signed-in user stops working within a second."""

    @extend_schema(request=None, responses={200: _REVOKED})
    def post(self, request: Request) -> Response:
        sessions_revoke_all(actor=request.user, user=request.user, ip=client_ip(request))
        return Response({"revoked": True}, status=status.HTTP_200_OK)
