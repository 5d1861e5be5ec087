"""The console's view of batch jobs: read-only, with live progress and an ETA; cancelling goes through
the service (audited, same rules as the API). Jobs are submitted through the API or a schedule."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from batch import services
from batch.models import BatchChunk, BatchInput, BatchJob
from batch.selectors import job_progress
from core.client_ip import client_ip
from core.errors import ModelyardError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChunkInline(admin.TabularInline):
    model = BatchChunk
    extra = 0
    fields = ["index", "row_start", "rows", "state", "attempts", "rows_ok", "rows_failed", "lease_owner",
              "finished_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BatchJob)
class BatchJobAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "model", "version_number", "status", "progress_bar", "eta", "created_by", "created_at"]
    list_filter = ["status", "output_format"]
    search_fields = ["uuid", "model__name", "created_by__username"]
    list_select_related = ["model", "version", "created_by"]
    readonly_fields = ["progress_bar", "eta"]
    inlines = [ChunkInline]
    actions = ["cancel"]

    @admin.display(description="version")
    def version_number(self, job: BatchJob) -> int:
        return job.version.version

    @admin.display(description="progress")
    def progress_bar(self, job: BatchJob) -> str:
        progress = job_progress(job)
        return format_html('<progress value="{}" max="1"></progress> {}% &middot; {} done, {} refused',
                           progress.fraction, round(progress.fraction * 100, 1), progress.rows_done,
                           progress.rows_failed)

    @admin.display(description="ETA")
    def eta(self, job: BatchJob) -> str:
        progress = job_progress(job)
        if progress.eta_seconds is None:
            return "-"
        return f"{progress.eta_seconds:.0f} s at {progress.rows_per_second:,.0f} rows/s"

    @admin.action(description="Cancel the selected jobs")
    def cancel(self, request: HttpRequest, queryset: QuerySet[BatchJob]) -> None:
        for job in queryset.select_related("team"):
            try:
                services.job_cancel(actor=request.user, job=job, ip=client_ip(request))
            except ModelyardError as exc:
                self.message_user(request, f"{job.uuid}: {exc.message}", level=messages.WARNING)
            else:
                self.message_user(request, f"{job.uuid} cancelled")



@admin.register(BatchInput)
class BatchInputAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "team", "format", "original_filename", "rows_total", "size_bytes", "created_at"]
    list_filter = ["format"]
    search_fields = ["uuid", "original_filename"]
    exclude = ["plan"]
