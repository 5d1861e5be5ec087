"""What a worker needs of a job that never changes after submit, read once per process: each chunk
then costs the database only its own row (claim, commit) and one look at the job's other chunks."""

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from batch.models import BatchJob
from batch.tables.plan import Plan
from batch.tables.read import Layout
from registry.models import ModelVersion

_KEEP = 16
_plans: OrderedDict[int, "JobPlan"] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class JobPlan:
    id: int
    uuid: uuid.UUID
    version: ModelVersion
    input_format: str
    input_key: str
    input_sha256: str
    layout: Layout
    output_format: str
    max_error_rate: float
    rows_total: int
    chunks: Plan  # the input's planned chunks: a task reads the ones its range is made of


def job_plan(job_id: int) -> JobPlan:
    with _lock:
        plan = _plans.get(job_id)
    if plan is not None:
        return plan
    job = BatchJob.objects.select_related("input", "version").get(pk=job_id)
    source = job.input
    if source is None:  # retention removed it: only possible for a job that is no longer open
        raise BatchJob.DoesNotExist(f"job {job.uuid} has no input any more")
    plan = JobPlan(job.id, job.uuid, job.version, source.format, source.storage_key, source.sha256,
                   Layout(source.columns, job.feature_columns, job.id_column), job.output_format,
                   job.max_error_rate, job.rows_total, source.plan)
    with _lock:
        _plans[job_id] = plan
        while len(_plans) > _KEEP:
            _plans.popitem(last=False)
    return plan


def clear() -> None:
    with _lock:
        _plans.clear()
