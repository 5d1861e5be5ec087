"""Batch job routes: parse, authorize (outsiders 404, too low a role 403), call one service, render."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from batch import services
from batch.api.serializers import BatchJobSerializer, JobSubmitSerializer
from batch.api.uploads import discard_uploads, read_body
from batch.models import BatchJob, JobStatus
from batch.selectors import job_get_for_user, jobs_visible
from batch.services.inputs import InputFile
from batch.tables.write import EXTENSIONS, MEDIA_TYPES
from core.codecs import OrjsonParser
from core.errors import ModelyardError, NotFound, Unavailable
from registry.api.base import ApiView, ListView, client_ip
from registry.artifacts import artifact_open
from registry.models import Role
from registry.selectors import model_get_for_user


class JobFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="model__name")
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    created_by = django_filters.CharFilter(field_name="created_by__username")

    class Meta:
        model = BatchJob
        fields = ["model", "status", "created_by"]


class JobListView(ListView):
    serializer_class = BatchJobSerializer
    filterset_class = JobFilter
    parser_classes = [OrjsonParser, MultiPartParser]

    def scoped_queryset(self) -> QuerySet:
        return jobs_visible(self.request.user)

    @extend_schema(request={"multipart/form-data": JobSubmitSerializer, "application/json": JobSubmitSerializer},
                   responses={201: BatchJobSerializer})
    def post(self, request: Request) -> Response:
        """Submit a job: the model and a version or an alias (resolved now), and the input as a file
        (CSV with a header, Parquet or JSON Lines) or the input of an earlier job (``input_from``)."""
        read_body(request)
        try:
            job = self._submit(request)
        finally:
            discard_uploads(request)  # kept inputs were moved into storage; anything else goes now
        return Response(BatchJobSerializer(job_get_for_user(user=request.user, job_id=job.uuid)).data,
                        status=status.HTTP_201_CREATED)

    def _submit(self, request: Request) -> BatchJob:
        name = request.data.get("model") if hasattr(request.data, "get") else None
        if not isinstance(name, str) or not name:
            raise ModelyardError("Name the model", field="model")
        model = model_get_for_user(user=request.user, name=name, role=Role.PREDICTOR)
        data = self.valid_data(JobSubmitSerializer)
        earlier = None
        if "input_from" in data:
            earlier = job_get_for_user(user=request.user, job_id=data["input_from"], field="input_from")
        upload = data.get("file")
        return services.job_create(
            actor=request.user, model=model, version=data.get("version"), alias=data.get("alias"),
            source=InputFile.from_upload(upload) if upload is not None else None, input_from=earlier,
            options=services.JobOptions(output_format=data["output_format"], id_column=data["id_column"],
                                        max_error_rate=data["max_error_rate"],
                                        input_format=data.get("input_format")),
            ip=client_ip(request))


class JobDetailView(ApiView):
    serializer_class = BatchJobSerializer

    def get(self, request: Request, job_id: str) -> Response:
        return Response(BatchJobSerializer(job_get_for_user(user=request.user, job_id=job_id)).data)


class JobCancelView(ApiView):
    serializer_class = BatchJobSerializer

    @extend_schema(request=None, responses={200: BatchJobSerializer})
    def post(self, request: Request, job_id: str) -> Response:
        """Stops the job at the next chunk boundary (a running task looks once a second) and removes its
        parts; 409 once it has finished."""
        job = job_get_for_user(user=request.user, job_id=job_id, role=Role.PREDICTOR)
        services.job_cancel(actor=request.user, job=job, ip=client_ip(request))
        return Response(BatchJobSerializer(job_get_for_user(user=request.user, job_id=job_id)).data)


_FILES = {(200, media): OpenApiResponse(OpenApiTypes.BINARY) for media in MEDIA_TYPES.values()}
_GONE = {410: OpenApiResponse(OpenApiTypes.OBJECT, description="Retention removed the file")}


def job_file_response(job: BatchJob, key: str, media_type: str, filename: str, sha256: str) -> FileResponse:
    if job.expired_at is not None:
        raise _Gone("Retention removed this job's files")
    try:
        handle = artifact_open(key)
    except FileNotFoundError:
        raise _Gone("The file is no longer in storage") from None
    except Exception as exc:  # any backend's error: retry later, the cause goes to the log
        raise Unavailable(f"Artifact storage could not read the file ({type(exc).__name__})",
                          code="storage_unavailable") from exc
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=media_type)
    response["X-Checksum-SHA256"] = sha256
    return response


class _Gone(ModelyardError):
    status = 410
    code = "gone"


class JobOutputView(ApiView):
    serializer_class = BatchJobSerializer

    @extend_schema(responses={**_FILES, **_GONE})
    def get(self, request: Request, job_id: str) -> Any:
        """The output file, rows in input order; 409 until the job has succeeded."""
        return job_file(job_get_for_user(user=request.user, job_id=job_id), "output")


class JobErrorsView(ApiView):
    serializer_class = BatchJobSerializer

    @extend_schema(responses={(200, MEDIA_TYPES["jsonl"]): OpenApiResponse(OpenApiTypes.BINARY), **_GONE})
    def get(self, request: Request, job_id: str) -> Any:
        """One JSON line per refused row: row, column, code, message (and id); 409 until the job is done."""
        return job_file(job_get_for_user(user=request.user, job_id=job_id), "errors")


def job_file(job: BatchJob, which: str) -> FileResponse:
    """A job's ``output`` (rows in input order) or ``errors`` file: for the API and the console alike."""
    if which == "output":
        if not job.output_key and job.expired_at is None:
            raise job_file_missing(job, "an output")
        return job_file_response(job, job.output_key, MEDIA_TYPES[job.output_format],
                                 f"{job.model.name}-{job.uuid}.{EXTENSIONS[job.output_format]}", job.output_sha256)
    if not job.errors_key and job.expired_at is None:
        raise job_file_missing(job, "an errors file")
    return job_file_response(job, job.errors_key, MEDIA_TYPES["jsonl"], f"{job.model.name}-{job.uuid}-errors.jsonl",
                             job.errors_sha256)


def job_file_missing(job: BatchJob, what: str) -> ModelyardError:
    from core.errors import Conflict

    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return Conflict(f"The job is {job.status}; it has no {what.split(' ', 1)[1]} yet", code="not_finished")
    return NotFound(f"This {job.status} job has no {what.split(' ', 1)[1]}", code="no_file")
