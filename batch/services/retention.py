"""Retention: the files of jobs that finished more than ``MODELYARD_BATCH_RETENTION_DAYS`` ago go.

Rows first, files after the commit: a job row never points at a file that is gone (its keys are
cleared and ``expired_at`` set in the same transaction), and an input row goes once no job that is
not expired uses it. Files the rows no longer name (a delete that failed, a part saved by a delivery
that lost its lease) are found under ``batch/`` and removed after a grace period.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from batch.files import ROOT, discard, discard_folder, job_folder, keys_under, scratch_sweep
from batch.models import OPEN_STATUSES, BatchInput, BatchJob
from registry.artifacts import artifact_storage
from registry.services.audit import audit_record

_LIMIT = 1000


def jobs_expire(*, older_than: timedelta, grace: timedelta) -> dict[str, int]:
    now = timezone.now()
    cutoff = now - older_than
    with transaction.atomic():
        jobs = list(BatchJob.objects.select_related("team").filter(finished_at__lt=cutoff, expired_at__isnull=True)
                    .exclude(status__in=OPEN_STATUSES)[:_LIMIT])
        BatchJob.objects.filter(pk__in=[job.pk for job in jobs]).update(
            expired_at=now, output_key="", output_sha256="", output_size=None, errors_key="", errors_sha256="",
            errors_size=None)
        live = BatchJob.objects.filter(expired_at__isnull=True, input__isnull=False).values("input_id")
        inputs = list(BatchInput.objects.select_related("team").filter(created_at__lt=cutoff)
                      .exclude(id__in=live)[:_LIMIT])
        BatchInput.objects.filter(pk__in=[row.pk for row in inputs]).delete()  # jobs keep input = NULL
        _audit(jobs, inputs)
        folders = [job_folder(job.uuid) for job in jobs] + [f"{ROOT}/inputs/{row.uuid}" for row in inputs]
        transaction.on_commit(lambda: [discard_folder(folder) for folder in folders], robust=True)
    orphans = _orphans(now - grace)
    return {"jobs": len(jobs), "inputs": len(inputs), "orphans": orphans, "scratch": scratch_sweep(now - grace)}


def _audit(jobs: list[BatchJob], inputs: list[BatchInput]) -> None:
    """One event per team, so each team's audit log says what of theirs went."""
    teams: dict[int, dict[str, Any]] = {}
    for job in jobs:
        teams.setdefault(job.team_id, {"team": job.team, "jobs": [], "inputs": []})["jobs"].append(str(job.uuid))
    for row in inputs:
        teams.setdefault(row.team_id, {"team": row.team, "jobs": [], "inputs": []})["inputs"].append(str(row.uuid))
    for entry in teams.values():
        audit_record(actor=None, action="batch.expired", target=f"team:{entry['team'].slug}", team=entry["team"],
                     after={"jobs": entry["jobs"][:100], "inputs": entry["inputs"][:100],
                            "job_count": len(entry["jobs"]), "input_count": len(entry["inputs"])})


def _orphans(before: datetime) -> int:
    """Files under batch/ that no row keeps, older than the grace period (a row may be about to commit)."""
    storage, removed = artifact_storage(), 0
    jobs = {str(u): (key, err, expired, status) for u, key, err, expired, status in BatchJob.objects.values_list(
        "uuid", "output_key", "errors_key", "expired_at", "status")}
    inputs = set(BatchInput.objects.values_list("storage_key", flat=True))
    for key in _listing():
        kept = key in inputs or _kept_by_job(key, jobs)
        if not kept and storage.get_modified_time(key) < before:
            discard(key)
            removed += 1
    return removed


def _listing() -> list[str]:
    try:
        return list(keys_under(ROOT))[:100_000]
    except OSError:
        return []


def _kept_by_job(key: str, jobs: dict[str, tuple]) -> bool:
    parts = key.split("/")
    if len(parts) < 4 or parts[1] != "jobs":
        return False
    try:
        entry = jobs.get(str(uuid.UUID(parts[2])))
    except ValueError:
        return False
    if entry is None or entry[2] is not None:
        return False
    output_key, errors_key, _, status = entry
    # A running job's parts and results are its own; a finished one keeps only what its row names.
    return status in OPEN_STATUSES or key in (output_key, errors_key)

