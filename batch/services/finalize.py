"""The last step of a job: the committed parts, in chunk order, become one output file and one errors
file linked to the job, or the job fails because too many rows were refused.

One delivery holds the job's finalize lease while it assembles; the job's status changes in one
conditional UPDATE made by that holder, so a second finalize (a duplicate message, the sweep) finds the
job finished and does nothing. Parts are removed only after that commit.
"""

import logging
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from batch import tasks
from batch.files import discard, discard_folder, job_folder, local_copy, release_copy, result_key, save_file, scratch
from batch.models import BatchChunk, BatchJob, ChunkState, JobStatus
from batch.services.failures import job_fail, out_of_time
from batch.services.lease import lease_until, losable, losably, new_owner, renewing
from batch.tables.write import EXTENSIONS, assemble
from registry.services.audit import audit_record

logger = logging.getLogger(__name__)


def job_finalize(*, job_id: int, inline: bool = False) -> str:
    """``inline``: run by the task that committed the last chunk, with what is left of that task's time
    limit; past it, the job gets a finalize task of its own (the whole limit) instead of failing."""
    owner = _claim(job_id)
    if owner is None:
        return "nothing to do"
    job = BatchJob.objects.select_related("team").get(pk=job_id)  # the team, for its audit row
    chunks = list(BatchChunk.objects.filter(job_id=job_id).order_by("index"))
    done = [chunk for chunk in chunks if chunk.state == ChunkState.DONE]
    failed = sum(chunk.rows_failed for chunk in done)
    too_many = failed > job.max_error_rate * job.rows_total
    if not too_many and len(done) < len(chunks):
        _held(job_id, owner).update(finalize_owner="", finalize_expires_at=None)
        return "not ready"
    try:
        with renewing(losably(lambda: _held(job_id, owner).update(finalize_expires_at=lease_until())),
                      f"finalize-{job_id}"):
            files = _files(job, done, with_output=not too_many)
    except Exception as exc:
        _held(job_id, owner).update(finalize_owner="", finalize_expires_at=None)
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            raise  # storage briefly away: the task retries
        if inline and out_of_time(exc):
            logger.warning("job %s: no time left to assemble the output in this task; a finalize task will",
                           job.uuid)
            tasks.job_finalize.delay(job_id)
            return "finalize queued"
        logger.exception("job %s: assembling the output failed", job.uuid)
        job_fail(job_id=job_id, message=f"Assembling the output failed ({type(exc).__name__}); "
                                        "the worker log has the details")
        return "failed"
    return _commit(job, owner, files, ok=sum(chunk.rows_ok for chunk in done), failed=failed, too_many=too_many)


def _claim(job_id: int) -> str | None:
    owner, now = new_owner(), timezone.now()
    free = Q(finalize_owner="") | Q(finalize_expires_at__lt=now)
    with losable():
        won = BatchJob.objects.filter(free, pk=job_id, status=JobStatus.RUNNING).update(
            finalize_owner=owner, finalize_expires_at=lease_until())
    return owner if won else None


def _held(job_id: int, owner: str) -> QuerySet[BatchJob]:
    return BatchJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, finalize_owner=owner)


def _files(job: BatchJob, done: list[BatchChunk], *, with_output: bool) -> dict[str, tuple[str, str, int]]:
    """Assemble locally, then keep: {"output"|"errors": (key, sha256, size)}."""
    files = {}
    errors = [(chunk.errors_key, chunk.errors_sha256) for chunk in done if chunk.errors_key]
    with scratch(".jsonl") as target:
        digest = _from_parts(errors, lambda paths: assemble("jsonl", paths, [], target))
        files["errors"] = _keep(job, "errors", "jsonl", target, digest)
    if with_output:
        parts = [(chunk.part_key, chunk.part_sha256) for chunk in done if chunk.part_key]
        columns = next((chunk.output_columns for chunk in done if chunk.output_columns), [])
        extension = EXTENSIONS[job.output_format]
        with scratch(f".{extension}") as target:
            digest = _from_parts(parts, lambda paths: assemble(job.output_format, paths, columns, target))
            files["output"] = _keep(job, "output", extension, target, digest)
    return files


def _from_parts(parts: list[tuple[str, str]], build: Callable[[list[Path]], str | None]) -> str | None:
    """``build`` makes the file from the parts' local copies and returns its sha256 if it hashed it."""
    paths = [local_copy(key, sha256) for key, sha256 in parts]
    try:
        return build(paths)
    finally:
        for path in paths:
            release_copy(path)


def _keep(job: BatchJob, kind: str, extension: str, path: Path, sha256: str | None) -> tuple[str, str, int]:
    size = path.stat().st_size
    key = result_key(job.uuid, kind, extension)
    return key, save_file(key, path, sha256), size


def _commit(job: BatchJob, owner: str, files: dict[str, tuple[str, str, int]], *, ok: int, failed: int,
            too_many: bool) -> str:
    status = JobStatus.FAILED if too_many else JobStatus.SUCCEEDED
    output = files.get("output", ("", "", None))
    errors = files["errors"]
    message = _message(job, failed, too_many)
    with transaction.atomic():
        changed = _held(job.pk, owner).update(
            status=status, status_message=message, finished_at=timezone.now(), rows_done=ok, rows_failed=failed,
            output_key=output[0], output_sha256=output[1], output_size=output[2], errors_key=errors[0],
            errors_sha256=errors[1], errors_size=errors[2], finalize_owner="", finalize_expires_at=None)
        if changed:
            audit_record(actor=None, action=f"batch_job.{status}", target=f"batch_job:{job.uuid}", team=job.team,
                         before={"status": JobStatus.RUNNING},
                         after={"status": status, "rows_done": ok, "rows_failed": failed, "message": message[:500]})
    if not changed:  # cancelled meanwhile, or the lease went to another delivery
        discard(output[0])
        discard(errors[0])
        return "dropped"
    discard_folder(f"{job_folder(job.uuid)}/parts")
    return status


def _message(job: BatchJob, failed: int, too_many: bool) -> str:
    if not failed:
        return ""
    share = f"{failed:,} of {job.rows_total:,} rows ({failed / max(job.rows_total, 1):.2%})"
    if too_many:
        return (f"{share} were refused, more than max_error_rate ({job.max_error_rate:g}) allows; "
                "the errors file lists each one with its reason")
    return f"{share} were refused (within max_error_rate); the errors file lists them"

