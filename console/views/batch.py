"""Batch jobs: submit one, watch every job's progress bar live, cancel, download the output and errors."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from batch import services
from batch.api.serializers import JobSubmitSerializer
from batch.api.views import job_file
from batch.models import OPEN_STATUSES, BatchJob, InputFormat
from batch.selectors import job_get_for_user, jobs_visible
from batch.services.inputs import InputFile
from console.base import FormErrors, client_ip, console_view, form_data
from core.errors import ModelyardError, NotFound
from registry.models import Role
from registry.permissions import teams_with_role
from registry.selectors import model_get_for_user, models_visible
from registry.uploads import body_read, uploads_discard

LIST_ROWS = 50
FIELDS = ("model", "version", "alias", "output_format", "id_column", "max_error_rate")


@console_view
@require_http_methods(["GET", "HEAD", "POST"])
def batch_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit(request)
    return _page(request, {"alias": "production", "output_format": "csv", "max_error_rate": "0"}, {})


def _page(request: HttpRequest, posted: Any, errors: dict[str, str], status: int = 200) -> HttpResponse:
    jobs = list(jobs_visible(request.user)[:LIST_ROWS])
    return render(request, "console/batch.html", {
        "jobs": jobs, "any_open": _any_open(jobs), "models": _predictable(request),
        "formats": InputFormat.choices, "posted": posted, "errors": errors}, status=status)


def _any_open(jobs: list[BatchJob]) -> bool:
    return any(job.status in OPEN_STATUSES for job in jobs)


def _predictable(request: HttpRequest) -> list[str]:
    """Models of teams where the user may predict (batch jobs are predictions)."""
    models = models_visible(request.user).filter(team__in=teams_with_role(request.user, Role.PREDICTOR))
    return list(models.values_list("name", flat=True)[:500])


def _submit(request: HttpRequest) -> HttpResponse:
    try:
        job = _create(request)
    except FormErrors as exc:
        return _page(request, request.POST, exc.errors, status=exc.status)
    except ModelyardError as exc:
        return _page(request, request.POST, FormErrors.from_service(exc).errors, status=exc.status)
    finally:
        uploads_discard(request)
    messages.success(request, f"Batch job {job.uuid} queued: {job.rows_total} rows.")
    return redirect("console:batch")


def _create(request: HttpRequest) -> BatchJob:
    body_read(request, lambda: request.FILES)
    fields: dict[str, Any] = {key: request.POST[key] for key in FIELDS if request.POST.get(key, "").strip()}
    if request.POST.get("target") == "version":
        fields.pop("alias", None)
    else:
        fields.pop("version", None)
    if "file" in request.FILES:
        fields["file"] = request.FILES["file"]
    model = model_get_for_user(user=request.user, name=fields.get("model", ""), role=Role.PREDICTOR)
    data = form_data(JobSubmitSerializer, fields)
    return services.job_create(
        actor=request.user, model=model, version=data.get("version"), alias=data.get("alias"),
        source=InputFile.from_upload(data["file"]) if "file" in data else None, input_from=None,
        options=services.JobOptions(output_format=data["output_format"], id_column=data["id_column"],
                                    max_error_rate=data["max_error_rate"], input_format=data.get("input_format")),
        ip=client_ip(request))


@console_view
@require_safe
def batch_rows(request: HttpRequest) -> HttpResponse:
    """The jobs table alone, polled by htmx for live progress bars."""
    visible = jobs_visible(request.user)
    if request.GET.get("open"):
        visible = visible.filter(status__in=OPEN_STATUSES)
    jobs = list(visible[:LIST_ROWS])
    response = render(request, "console/batch_rows.html", {"jobs": jobs, "empty": "No batch job running."
                                                           if request.GET.get("open") else None})
    if request.htmx and not _any_open(jobs):
        response.status_code = 286  # htmx stops polling: every job shown has finished
    return response


@console_view
@require_POST
def batch_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    job = job_get_for_user(user=request.user, job_id=job_id, role=Role.PREDICTOR)
    try:
        services.job_cancel(actor=request.user, job=job, ip=client_ip(request))
    except ModelyardError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Batch job {job.uuid} cancelled.")
    return redirect("console:batch")


@console_view
@require_safe
def batch_file(request: HttpRequest, job_id: str, which: str) -> HttpResponse:
    if which not in ("output", "errors"):
        raise NotFound(f"A job has an output and an errors file, not {which!r}")
    return job_file(job_get_for_user(user=request.user, job_id=job_id), which)
