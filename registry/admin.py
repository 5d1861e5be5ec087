"""The console: the registry in Django admin.

Every save, delete and action here calls a service, so it is audited and the services' rules hold
(a team keeps an owner, aliases point at ready versions, names are valid and unique). What no service
covers is read-only: versions (uploaded through the API) and audit events. A protected alias cannot be
moved or deleted here either (alias_set refuses it); promotion requests are decided by the actions on
their page, through the same services as the API (four eyes: not by their requester).
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import BaseModelForm
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from core.client_ip import client_ip
from core.errors import ModelyardError
from registry import services
from registry.models import (
    AuditEvent,
    Membership,
    ModelAlias,
    ModelVersion,
    PromotionRequest,
    RegisteredModel,
    Role,
    Team,
)


def _adopt(obj: Model, saved: Model) -> None:
    """Copy the row a service saved into the admin's instance: its log entry, redirect and inlines use it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


def _changes(form: BaseModelForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data}


class ServiceAdmin(admin.ModelAdmin):
    """A submitted page is one transaction: if a service refuses any part, none of it is kept (admin
    log entries included) and the refusal shows as an error message on the page, not as a 500."""

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return self._refusable(request, super().changeform_view, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return self._refusable(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return self._refusable(request, super().changelist_view, extra_context)

    def _refusable(self, request: HttpRequest, view: Callable[..., HttpResponse], *args: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args)
        try:
            with transaction.atomic():
                return view(request, *args)
        except ModelyardError as exc:
            self.message_user(request, f"Nothing was changed: {exc.message}", level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


def _stored_username(membership: Membership) -> str:
    # The form has already put the submitted user on the instance; the row still holds the old one.
    return Membership.objects.filter(pk=membership.pk).values_list("user__username", flat=True).get()


def _save_memberships(request: HttpRequest, team: Team, formset: BaseInlineFormSet) -> None:
    """Through membership_set/remove. Owners are granted first and removals come last, so a page that
    hands ownership over (new owner in, old owner out) passes the last-owner rule in any row order."""
    changed = formset.save(commit=False)  # added and edited rows, not saved; deletions are listed apart
    removals = [_stored_username(m) for m in formset.deleted_objects]
    for membership in changed:  # a row given another user: the old user leaves, the new one joins
        if membership.pk and (old := _stored_username(membership)) != membership.user.username:
            removals.append(old)
    for membership in sorted(changed, key=lambda m: m.role != Role.OWNER):
        services.membership_set(actor=request.user, team=team, username=membership.user.username,
                                role=membership.role, ip=client_ip(request))
    for username in removals:
        services.membership_remove(actor=request.user, team=team, username=username, ip=client_ip(request))


@admin.register(Team)
class TeamAdmin(ServiceAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The slug is the team's identity in URLs and audit targets: chosen once, at creation.
        return ["slug", "created_at"] if obj else ["created_at"]

    def save_model(self, request: HttpRequest, obj: Team, form: BaseModelForm, change: bool) -> None:
        if not change:
            # A team starts with an owner; here that is the staff user, who can hand it over below.
            _adopt(obj, services.team_create(actor=request.user, slug=obj.slug, name=obj.name,
                                             ip=client_ip(request)))
            self.message_user(request, f"You are the first owner of {obj.slug}; add its owner and remove "
                                       "yourself when you are done.", level=messages.INFO)
        elif "name" in form.changed_data:
            _adopt(obj, services.team_update(actor=request.user, team=obj, name=obj.name, ip=client_ip(request)))

    def save_formset(self, request: HttpRequest, form: BaseModelForm, formset: BaseInlineFormSet,
                     change: bool) -> None:
        _save_memberships(request, form.instance, formset)

    def delete_model(self, request: HttpRequest, obj: Team) -> None:
        services.team_delete(actor=request.user, team=obj, ip=client_ip(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        for team in queryset:
            self.delete_model(request, team)


class AliasInline(admin.TabularInline):
    """Shown for reference; aliases move through their own page (alias_set) so each move is checked."""

    model = ModelAlias
    extra = 0
    fields = ["name", "version", "updated_by", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ServiceAdmin):
    list_display = ["name", "team", "version_count", "updated_at"]
    list_filter = ["team"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [AliasInline]

    @admin.display(description="versions")
    def version_count(self, obj: RegisteredModel) -> int:
        return obj.versions.count()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:  # what model_create takes; the rest is set on the model's page afterwards
            return ["team", "name", "description", "tags"]
        return super().get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: RegisteredModel, form: BaseModelForm, change: bool) -> None:
        if not change:
            _adopt(obj, services.model_create(actor=request.user, team=obj.team, name=obj.name,
                                              description=obj.description, tags=obj.tags, ip=client_ip(request)))
        elif form.changed_data:
            _adopt(obj, services.model_update(actor=request.user, model=obj, changes=_changes(form),
                                              ip=client_ip(request)))

    def save_formset(self, request: HttpRequest, form: BaseModelForm, formset: BaseInlineFormSet,
                     change: bool) -> None:
        # The only inline (aliases) is read-only: commit=False writes nothing, and tells the admin's
        # change message that nothing was added, changed or deleted there.
        formset.save(commit=False)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # no service deletes a model: its versions and their history are kept


@admin.register(ModelVersion)
class ModelVersionAdmin(ServiceAdmin):
    list_display = ["__str__", "format", "status", "size_bytes", "created_by", "created_at"]
    list_filter = ["status", "format", "model__team"]
    search_fields = ["model__name", "sha256", "original_filename"]
    list_select_related = ["model", "created_by"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["archive", "restore"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through the API so that they are hashed, detected and validated

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # every field is fixed at upload or by validation; status changes by the actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_lifecycle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.change_modelversion")

    @admin.action(description="Archive selected versions (out of service)", permissions=["lifecycle"])
    def archive(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        _each(self, request, queryset.select_related("model"), "Archived",
              lambda v: services.version_archive(actor=request.user, version=v, ip=client_ip(request)))

    @admin.action(description="Restore selected archived versions (back to ready)", permissions=["lifecycle"])
    def restore(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        _each(self, request, queryset.select_related("model"), "Restored",
              lambda v: services.version_restore(actor=request.user, version=v, ip=client_ip(request)))


def _each(model_admin: admin.ModelAdmin, request: HttpRequest, objects: QuerySet, done: str,
          service: Callable[[Any], Any]) -> None:
    """An action, object by object: the ones that qualify change, each refusal is reported by name."""
    changed = []
    for obj in objects:
        try:
            service(obj)
            changed.append(str(obj))
        except ModelyardError as exc:
            model_admin.message_user(request, f"{obj}: {exc.message}", level=messages.ERROR)
    if changed:
        model_admin.message_user(request, f"{done}: {', '.join(changed)}", level=messages.SUCCESS)


@admin.register(ModelAlias)
class ModelAliasAdmin(ServiceAdmin):
    list_display = ["model", "name", "version", "updated_by", "updated_at"]
    list_filter = ["model__team", "name"]
    search_fields = ["model__name", "name"]
    list_select_related = ["model", "version", "updated_by"]
    readonly_fields = ["updated_by", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Which model and name an alias belongs to never changes; only where it points.
        return [*self.readonly_fields, "model", "name"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ModelAlias, form: BaseModelForm, change: bool) -> None:
        if change and not form.changed_data:
            return  # saved unchanged: no move, no audit row
        _adopt(obj, services.alias_set(actor=request.user, model=obj.model, name=obj.name, version=obj.version,
                                       ip=client_ip(request)))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ModelAlias]) -> None:
        for alias in queryset.select_related("model"):
            self.delete_model(request, alias)

    def delete_model(self, request: HttpRequest, obj: ModelAlias) -> None:
        services.alias_delete(actor=request.user, model=obj.model, name=obj.name, ip=client_ip(request))


@admin.register(PromotionRequest)
class PromotionRequestAdmin(ServiceAdmin):
    """Read-only rows; approve and reject are actions that call the promotion services."""

    list_display = ["__str__", "purpose", "status", "requested_by", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "alias", "model__team"]
    search_fields = ["model__name", "alias", "reason"]
    list_select_related = ["model", "version", "requested_by", "decided_by"]
    readonly_fields = [f.name for f in PromotionRequest._meta.fields]
    actions = ["approve", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests are made through the API, by a maintainer of the team

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.change_promotionrequest")

    @admin.action(description="Approve selected requests (a move request moves its alias)", permissions=["decide"])
    def approve(self, request: HttpRequest, queryset: QuerySet[PromotionRequest]) -> None:
        _each(self, request, queryset.select_related("model", "version"), "Approved",
              lambda p: services.promotion_approve(actor=request.user, promotion=p, ip=client_ip(request)))

    @admin.action(description="Reject selected requests", permissions=["decide"])
    def reject(self, request: HttpRequest, queryset: QuerySet[PromotionRequest]) -> None:
        _each(self, request, queryset.select_related("model", "version"), "Rejected",
              lambda p: services.promotion_reject(actor=request.user, promotion=p, reason="Rejected in the console",
                                                  ip=client_ip(request)))


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
