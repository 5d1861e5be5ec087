"""Submitting and cancelling jobs. A refused submit keeps nothing: no row, no file, no task."""

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from batch import tasks
from batch.files import discard, discard_folder, job_folder
from batch.models import OPEN_STATUSES, BatchChunk, BatchInput, BatchJob, InputFormat, JobStatus
from batch.selectors import done_sums
from batch.services.inputs import InputFile, feature_columns, input_inspect, input_new
from batch.tables.plan import plan_tasks
from core.errors import Conflict, ModelyardError
from registry.models import ModelVersion, RegisteredModel, VersionStatus
from registry.permissions import User
from registry.selectors import alias_get, version_get
from registry.services.audit import audit_record

logger = logging.getLogger(__name__)


@dataclass
class JobOptions:
    output_format: str = InputFormat.PARQUET
    id_column: str = ""
    max_error_rate: float = 0.0
    input_format: str | None = None  # declared; detected from the bytes when None
    schedule: str = ""


def job_version(*, model: RegisteredModel, number: int | None, alias: str | None) -> ModelVersion:
    """The version a job runs, fixed at submit. An alias answers as the online routes do: if its version
    was taken out of service, the version it pointed to before."""
    if (number is None) == (alias is None):
        raise ModelyardError("Name either a version or an alias", field="version")
    if alias is not None:
        found = alias_get(model=model, name=alias)
        version = found.version
        if version.status != VersionStatus.READY and found.previous_version is not None \
                and found.previous_version.status == VersionStatus.READY:
            version = found.previous_version
    else:
        version = version_get(model=model, number=number)
    if version.status != VersionStatus.READY:
        raise Conflict(f"{model.name} v{version.version} is {version.status}, not ready", code="version_not_ready",
                       field="alias" if alias is not None else "version")
    return version


def _check_options(options: JobOptions) -> None:
    if options.output_format not in InputFormat.values:
        raise ModelyardError(f"output_format must be one of {InputFormat.values}", field="output_format")
    if not 0.0 <= options.max_error_rate <= 1.0:  # NaN fails both comparisons
        raise ModelyardError("max_error_rate must be between 0 and 1", field="max_error_rate")


def job_create(*, actor: User, model: RegisteredModel, version: int | None = None, alias: str | None = None,
               source: InputFile | None = None, input_from: BatchJob | None = None,
               options: JobOptions | None = None, ip: str | None = None) -> BatchJob:
    """Everything is checked before the input is kept; if the rows cannot be inserted, the file goes."""
    options = options or JobOptions()
    _check_options(options)
    chosen = job_version(model=model, number=version, alias=alias)
    if (source is None) == (input_from is None):
        raise ModelyardError("Send the input as a file, or name an earlier job in input_from", field="file")
    if source is not None:
        info = input_inspect(source, options.input_format)
        new_input = input_new(source=source, info=info, team_id=model.team_id, actor=actor)
        columns, not_numeric, existing = info.columns, info.not_numeric, None
    else:
        existing = _reusable_input(input_from, model)
        columns, not_numeric, new_input = existing.columns, {}, None
    features = feature_columns(columns, not_numeric, chosen.signature, options.id_column)
    if new_input is not None:
        source.save(new_input.storage_key)
    try:
        return _job_insert(actor=actor, model=model, version=chosen, alias=alias or "", new_input=new_input,
                           existing=existing, features=features, options=options, ip=ip)
    except BaseException:
        if new_input is not None:
            discard(new_input.storage_key)
        raise


def _reusable_input(earlier: BatchJob, model: RegisteredModel) -> BatchInput:
    if earlier.team_id != model.team_id:
        raise ModelyardError("input_from must be a job of the model's team", field="input_from")
    if earlier.input is None:
        raise Conflict("That job's input was removed by retention; upload it again", field="input_from",
                       code="input_expired")
    return earlier.input


@transaction.atomic
def _job_insert(*, actor: User, model: RegisteredModel, version: ModelVersion, alias: str,
                new_input: BatchInput | None, existing: BatchInput | None, features: list[str],
                options: JobOptions, ip: str | None) -> BatchJob:
    if new_input is not None:
        new_input.save()
    source = new_input or existing
    job = BatchJob.objects.create(
        team_id=model.team_id, model=model, version=version, alias=alias, input=source, feature_columns=features,
        id_column=options.id_column, output_format=options.output_format, max_error_rate=options.max_error_rate,
        rows_total=source.rows_total, schedule=options.schedule[:200],
        created_by=actor if actor.is_authenticated else None)
    now, ranges = timezone.now(), plan_tasks(source.plan, settings.MODELYARD_BATCH_CHUNKS_PER_TASK,
                                                   settings.MODELYARD_BATCH_CHUNK_ROWS)
    BatchChunk.objects.bulk_create(
        BatchChunk(job=job, index=i, row_start=first, rows=rows, start=start, end=end, enqueued_at=now)
        for i, (first, rows, start, end) in enumerate(ranges))
    audit_record(actor=actor, action="batch_job.create", target=f"batch_job:{job.uuid}", team=model.team, ip=ip,
                 after={"model": model.name, "version": version.version, "alias": alias, "input": str(source.uuid),
                        "rows": source.rows_total, "chunks": len(ranges), "output_format": options.output_format,
                        "schedule": options.schedule or None})
    chunk_ids = list(job.chunks.values_list("id", flat=True))
    # Robust: a broker outage keeps the job; the sweep (batch.jobs_sweep) sends what was not sent.
    transaction.on_commit(lambda: _enqueue(chunk_ids), robust=True)
    return job


def _enqueue(chunk_ids: list[int]) -> None:
    for chunk_id in chunk_ids:
        tasks.job_chunk_run.delay(chunk_id)


def job_cancel(*, actor: User, job: BatchJob, ip: str | None = None) -> BatchJob:
    """Stops the job at the next chunk boundary: no task starts, a running one stops between chunks (it
    looks at most once a second) or throws its part away."""
    with transaction.atomic():  # the write comes first: SQLite takes its write lock before any read
        changed = BatchJob.objects.filter(pk=job.pk, status__in=OPEN_STATUSES).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), **done_sums(),
            status_message=f"Cancelled by {getattr(actor, 'username', None) or 'the system'}")
        current = BatchJob.objects.filter(pk=job.pk).values("status", "rows_done").get()
        if not changed:
            raise Conflict(f"The job has already {current['status']}", code="job_finished")
        audit_record(actor=actor, action="batch_job.cancel", target=f"batch_job:{job.uuid}", team=job.team,
                     before={"status": job.status}, after={"status": JobStatus.CANCELLED,
                                                           "rows_done": current["rows_done"]}, ip=ip)
        folder = job_folder(job.uuid)
        transaction.on_commit(lambda: discard_folder(folder), robust=True)
    job.refresh_from_db()
    return job


def job_create_scheduled(*, username: str, model: str, input_from: str, alias: str = "production",
                         schedule: str = "", **options: Any) -> BatchJob:
    """A django-celery-beat entry's job: the same rules as the API, as the user the entry names."""
    from django.contrib.auth import get_user_model

    from batch.selectors import job_get_for_user
    from registry.models import Role
    from registry.selectors import model_get_for_user

    user = get_user_model().objects.get(username=username, is_active=True)
    found = model_get_for_user(user=user, name=model, role=Role.PREDICTOR)
    earlier = job_get_for_user(user=user, job_id=input_from, role=Role.PREDICTOR)
    return job_create(actor=user, model=found, alias=alias, input_from=earlier,
                      options=JobOptions(schedule=schedule, **options))
