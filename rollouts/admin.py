"""The console shows rollouts and their evidence; changes go through the services (audited), never raw saves."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.client_ip import client_ip
from core.errors import ModelyardError
from rollouts import services
from rollouts.models import Rollout, RolloutEvent, VersionMetricMinute


class RolloutEventInline(admin.TabularInline):
    model = RolloutEvent
    fields = ["at", "kind", "actor", "step", "weight_before", "weight_after", "rule", "message", "evidence"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _action(service: Any, label: str) -> Any:
    def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for rollout in queryset:
            try:
                service(actor=request.user, rollout=rollout, reason="console", ip=client_ip(request))
            except ModelyardError as exc:  # e.g. already finished: say so, leave the others done
                modeladmin.message_user(request, f"Rollout {rollout.pk}: {exc.message}", messages.ERROR)

    run.__name__ = f"rollout_{label.replace(' ', '_')}"
    run.short_description = label.capitalize()  # type: ignore[attr-defined]
    return run


@admin.register(Rollout)
class RolloutAdmin(admin.ModelAdmin):
    list_display = ["id", "model", "alias", "candidate", "strategy", "status", "weight", "created_at"]
    list_filter = ["status", "strategy"]
    search_fields = ["model__name", "alias"]
    inlines = [RolloutEventInline]
    actions = [_action(services.rollout_pause, "pause"), _action(services.rollout_resume, "resume"),
               _action(services.rollout_promote, "promote now"), _action(services.rollout_rollback, "roll back now"),
               _action(services.rollout_abort, "abort")]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Rollout._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started through the API, where the approval and signature checks run

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(VersionMetricMinute)
class VersionMetricMinuteAdmin(admin.ModelAdmin):
    list_display = ["version", "minute", "requests", "errors", "p95_ms", "shadow_rows", "shadow_agreed"]
    list_filter = ["minute"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
