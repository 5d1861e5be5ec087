"""Staff's user admin, plus "sign out everywhere" through the same service as the API."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.client_ip import client_ip
from registry.services.sessions import sessions_revoke_all

User = get_user_model()


class ModelyardUserAdmin(UserAdmin):
    actions = ["revoke_sessions"]

    @admin.action(description="Sign out everywhere (revoke every token of the selected users)")
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            sessions_revoke_all(actor=request.user, user=user, ip=client_ip(request))
        self.message_user(request, f"Revoked the sessions of {queryset.count()} user(s)", level=messages.SUCCESS)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ModelyardUserAdmin)
