"""Staff's view of every team's service tokens, with revocation through the same service as the API.

Read-only rows: tokens are made by team owners (API or console), where the secret can be shown once
to the person who asked for it; staff revoke, audited as themselves.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.client_ip import client_ip
from registry.admin import ServiceAdmin, _each
from registry.models import ServiceToken
from registry.services.service_tokens import service_token_revoke


@admin.register(ServiceToken)
class ServiceTokenAdmin(ServiceAdmin):
    list_display = ["name", "team", "role", "account", "created_by", "created_at", "expires_at", "revoked_at"]
    list_filter = ["role", "team", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "team__slug", "account__username"]
    list_select_related = ["team", "account", "created_by"]
    readonly_fields = [f.name for f in ServiceToken._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the secret is shown once, to the owner who makes the token (API or console)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked rows stay: the team's record of who could act as it

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.change_servicetoken")

    @admin.action(description="Revoke selected tokens (refused everywhere within a second)", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ServiceToken]) -> None:
        _each(self, request, queryset.select_related("team"), "Revoked",
              lambda token: service_token_revoke(actor=request.user, token=token, ip=client_ip(request)))
