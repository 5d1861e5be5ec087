"""Batch prediction jobs: an input file scored by one model version, chunk by chunk, on workers.

An input is planned once, when it is registered: the plan splits it into chunks (byte ranges of a
text file, runs of Parquet row groups). A job joins them into one ``BatchChunk`` row per task of
MODELYARD_BATCH_CHUNKS_PER_TASK consecutive chunks; each row is claimed, computed and committed on its
own, so tasks never wait on one another's locks and the job's progress is the sum of its rows.
"""

import uuid

from django.conf import settings
from django.db import models

from registry.models import ModelVersion, RegisteredModel, Team


class InputFormat(models.TextChoices):
    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl", "JSON Lines"


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class ChunkState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


class BatchInput(models.Model):
    """An uploaded table, kept while a job that is not yet expired uses it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=10, choices=InputFormat.choices)
    storage_key = models.CharField(max_length=300, unique=True)
    original_filename = models.CharField(max_length=255, blank=True, default="")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    # Column names in file order (a CSV header, the Parquet schema, the first JSON Lines object's keys).
    columns = models.JSONField(default=list)
    rows_total = models.BigIntegerField()
    # [[first row, rows, start, end], ...]: byte offsets for text formats, row group indexes for Parquet.
    plan = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.original_filename or self.uuid} ({self.format}, {self.rows_total} rows)"


class BatchJob(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="batch_jobs")
    # Resolved at submit: a later alias move never changes a job that is already queued or running.
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="batch_jobs")
    alias = models.CharField(max_length=50, blank=True, default="")
    # Null once retention removed an input no live job uses.
    input = models.ForeignKey(BatchInput, on_delete=models.SET_NULL, null=True, related_name="jobs")
    feature_columns = models.JSONField(default=list)
    id_column = models.CharField(max_length=200, blank=True, default="")
    output_format = models.CharField(max_length=10, choices=InputFormat.choices, default=InputFormat.PARQUET)
    max_error_rate = models.FloatField(default=0.0)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    status_message = models.TextField(blank=True, default="")
    rows_total = models.BigIntegerField(default=0)
    # Written when the job finishes; while it runs, progress is summed from its chunks.
    rows_done = models.BigIntegerField(default=0)
    rows_failed = models.BigIntegerField(default=0)
    output_key = models.CharField(max_length=300, blank=True, default="")
    output_sha256 = models.CharField(max_length=64, blank=True, default="")
    output_size = models.BigIntegerField(null=True, blank=True)
    errors_key = models.CharField(max_length=300, blank=True, default="")
    errors_sha256 = models.CharField(max_length=64, blank=True, default="")
    errors_size = models.BigIntegerField(null=True, blank=True)
    # The finalize lease: one worker assembles the output; a dead one's claim runs out.
    finalize_owner = models.CharField(max_length=200, blank=True, default="")
    finalize_expires_at = models.DateTimeField(null=True, blank=True)
    schedule = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set by retention: the output and errors files are gone, the row stays as history.
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"batch job {self.uuid} ({self.status})"


class BatchChunk(models.Model):
    job = models.ForeignKey(BatchJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    row_start = models.BigIntegerField()
    rows = models.BigIntegerField()
    # Byte offsets (CSV, JSON Lines) or a row group range (Parquet), end exclusive.
    start = models.BigIntegerField()
    end = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=ChunkState.choices, default=ChunkState.PENDING)
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a task for this chunk was last sent: the sweep sends another one if none was claimed since.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    part_key = models.CharField(max_length=300, blank=True, default="")
    part_sha256 = models.CharField(max_length=64, blank=True, default="")
    errors_key = models.CharField(max_length=300, blank=True, default="")
    errors_sha256 = models.CharField(max_length=64, blank=True, default="")
    rows_ok = models.BigIntegerField(default=0)
    rows_failed = models.BigIntegerField(default=0)
    output_columns = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="uniq_batch_chunk")]
        indexes = [models.Index(fields=["job", "state"], name="batch_chunk_job_state")]

    def __str__(self) -> str:
        return f"chunk {self.index} of {self.job_id}"
