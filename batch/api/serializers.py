from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from batch.models import BatchJob, InputFormat
from batch.selectors import job_progress


class FormatField(serializers.ChoiceField):
    """csv, parquet or jsonl: one enum in the schema (BatchFileFormatEnum, settings.ENUM_NAME_OVERRIDES)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=InputFormat.choices, **kwargs)


def _no_nul(value: str) -> str:
    if "\x00" in value:  # stored text cannot hold NUL (PostgreSQL refuses it)
        raise serializers.ValidationError("Must not contain NUL characters")
    return value


class JobSubmitSerializer(serializers.Serializer):
    """Multipart (with ``file``) or JSON (with ``input_from``). Either ``version`` or ``alias``."""

    model = serializers.CharField(max_length=100, validators=[_no_nul])
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    alias = serializers.CharField(max_length=50, required=False, validators=[_no_nul])
    file = serializers.FileField(required=False, allow_empty_file=True)
    input_from = serializers.UUIDField(required=False, help_text="Reuse the input of an earlier job of the team")
    input_format = FormatField(required=False, help_text="Declared format; detected from the bytes when absent")
    output_format = FormatField(default=InputFormat.PARQUET)
    id_column = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                      validators=[_no_nul], help_text="Input column carried through to the output")
    max_error_rate = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.0,
                                            help_text="Share of rows that may be refused before the job fails")

    def validate_max_error_rate(self, value: float) -> float:
        if not 0.0 <= value <= 1.0:  # NaN passes DRF's min/max checks
            raise serializers.ValidationError("Give a number between 0 and 1")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("version" in attrs) == ("alias" in attrs):
            raise serializers.ValidationError({"version": "Name either a version or an alias"})
        if ("file" in attrs) == ("input_from" in attrs):
            raise serializers.ValidationError({"file": "Send the input as a file, or name an earlier job in "
                                                       "input_from"})
        return attrs


class InputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    format = serializers.CharField()
    filename = serializers.CharField(source="original_filename")
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    rows = serializers.IntegerField(source="rows_total")
    columns = serializers.ListField(child=serializers.CharField())


class FileSerializer(serializers.Serializer):
    url = serializers.CharField()
    size_bytes = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(allow_blank=True)


class BatchJobSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    team = serializers.CharField(source="team.slug")
    model = serializers.CharField(source="model.name")
    version = serializers.IntegerField(source="version.version")
    input = InputSerializer(allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    output_format = FormatField()
    rows_done = serializers.SerializerMethodField()
    rows_failed = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    rows_per_second = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()
    output = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()

    class Meta:
        model = BatchJob
        fields = ["id", "team", "model", "version", "alias", "status", "status_message", "input", "feature_columns",
                  "id_column", "output_format", "max_error_rate", "rows_total", "rows_done", "rows_failed",
                  "progress", "rows_per_second", "eta_seconds", "output", "errors", "schedule", "created_by",
                  "created_at", "started_at", "finished_at", "expired_at"]

    def _progress(self, job: BatchJob) -> Any:
        cache = self.context.setdefault("_progress", {})
        if job.pk not in cache:
            cache[job.pk] = job_progress(job)
        return cache[job.pk]

    def get_rows_done(self, job: BatchJob) -> int:
        return self._progress(job).rows_done

    def get_rows_failed(self, job: BatchJob) -> int:
        return self._progress(job).rows_failed

    def get_progress(self, job: BatchJob) -> float:
        """Share of rows processed (written or refused), 0 to 1."""
        return self._progress(job).fraction

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_rows_per_second(self, job: BatchJob) -> float | None:
        return self._progress(job).rows_per_second

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_eta_seconds(self, job: BatchJob) -> float | None:
        return self._progress(job).eta_seconds

    @extend_schema_field(FileSerializer(allow_null=True))
    def get_output(self, job: BatchJob) -> dict[str, Any] | None:
        if not job.output_key:
            return None
        return {"url": f"/api/v1/batch-jobs/{job.uuid}/output", "size_bytes": job.output_size,
                "sha256": job.output_sha256}

    @extend_schema_field(FileSerializer(allow_null=True))
    def get_errors(self, job: BatchJob) -> dict[str, Any] | None:
        if not job.errors_key:
            return None
        return {"url": f"/api/v1/batch-jobs/{job.uuid}/errors", "size_bytes": job.errors_size,
                "sha256": job.errors_sha256}
