"""Every change to batch jobs goes through one of these functions; job-level changes are audited."""

from batch.services.chunks import ChunkBusy, job_chunk_run
from batch.services.failures import job_fail
from batch.services.finalize import job_finalize
from batch.services.inputs import InputFile
from batch.services.jobs import JobOptions, job_cancel, job_create, job_create_scheduled
from batch.services.retention import jobs_expire
from batch.services.sweep import jobs_sweep

__all__ = ["ChunkBusy", "InputFile", "JobOptions", "job_cancel", "job_chunk_run", "job_create",
           "job_create_scheduled", "job_fail", "job_finalize", "jobs_expire", "jobs_sweep"]
