"""The console: the registry in Django admin. Changes that matter go through the services."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.errors import ModelyardError
from registry import services
from registry.models import AuditEvent, Membership, ModelAlias, ModelVersion, RegisteredModel, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


class AliasInline(admin.TabularInline):
    model = ModelAlias
    extra = 0
    fields = ["name", "version", "updated_by", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "version_count", "updated_at"]
    list_filter = ["team"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [AliasInline]

    @admin.display(description="versions")
    def version_count(self, obj: RegisteredModel) -> int:
        return obj.versions.count()


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "format", "status", "size_bytes", "created_by", "created_at"]
    list_filter = ["status", "format", "model__team"]
    search_fields = ["model__name", "sha256", "original_filename"]
    list_select_related = ["model", "created_by"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through the API so that they are hashed, detected and validated

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    list_display = ["model", "name", "version", "updated_by", "updated_at"]
    list_filter = ["model__team", "name"]
    search_fields = ["model__name", "name"]
    list_select_related = ["model", "version", "updated_by"]
    readonly_fields = ["updated_by", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Which model and name an alias belongs to never changes; only where it points.
        return [*self.readonly_fields, "model", "name"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ModelAlias, form: Any, change: bool) -> None:
        try:
            services.alias_set(actor=request.user, model=obj.model, name=obj.name, version=obj.version,
                               ip=request.META.get("REMOTE_ADDR"))
        except ModelyardError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ModelAlias]) -> None:
        for alias in queryset.select_related("model"):
            self.delete_model(request, alias)

    def delete_model(self, request: HttpRequest, obj: ModelAlias) -> None:
        services.alias_delete(actor=request.user, model=obj.model, name=obj.name, ip=request.META.get("REMOTE_ADDR"))


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "team", "action", "target", "ip"]
    list_filter = ["action", "team"]
    search_fields = ["target", "actor__username"]
    date_hierarchy = "at"
    readonly_fields = ["at", "actor", "team", "action", "target", "before", "after", "ip"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
