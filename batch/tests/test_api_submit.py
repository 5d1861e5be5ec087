"""POST /api/v1/batch-jobs: multipart with the file, or JSON naming an earlier job's input. Predictors
submit; viewers get 403 and outsiders 404; every refusal is a 4xx envelope that keeps nothing."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from batch.models import BatchInput, BatchJob
from batch.tests.conftest import csv_bytes, iris_like, parquet_bytes, submit
from conftest import stored_files
from registry.models import AuditEvent

URL = "/api/v1/batch-jobs"


def upload(data: bytes, name: str = "scores.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def temporary() -> set[Path]:
    return {p for p in Path(settings.FILE_UPLOAD_TEMP_DIR).rglob("*") if p.is_file()}


@pytest.fixture(autouse=True)
def earlier_temporary() -> set[Path]:
    """Temporary files other tests' killed workers left (the retention task removes those)."""
    return temporary()


@pytest.fixture
def kept_nothing(artifact_root: Path, earlier_temporary: set[Path]):
    def check() -> bool:
        stored = [p for p in stored_files(artifact_root) if "batch" in p.parts]
        audited = AuditEvent.objects.filter(action__startswith="batch").exists()
        return not (BatchJob.objects.exists() or BatchInput.objects.exists() or stored or audited
                    or temporary() - earlier_temporary)
    return check


def test_a_predictor_submits_a_file_and_gets_the_job(as_user, teammate, ready_iris, earlier_temporary):
    response = as_user(teammate).post(URL, {"model": "iris", "alias": "production", "id_column": "id",
                                            "output_format": "csv", "max_error_rate": "0.01",
                                            "file": upload(parquet_bytes(iris_like(20)), "in.parquet")},
                                      format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["model"], body["version"], body["alias"], body["output_format"]) == (
        "queued", "iris", 1, "production", "csv")
    assert body["input"]["format"] == "parquet" and body["input"]["rows"] == 20 and body["rows_total"] == 20
    assert (body["progress"], body["rows_done"], body["output"], body["errors"]) == (0.0, 0, None, None)
    assert body["created_by"] == "tom-teammate" and body["max_error_rate"] == 0.01
    job = BatchJob.objects.get(uuid=body["id"])
    assert job.input.sha256 == body["input"]["sha256"] and job.input.original_filename == "in.parquet"
    assert not temporary() - earlier_temporary


def test_json_with_an_earlier_jobs_input(as_user, teammate, owner, ready_iris):
    earlier = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    response = as_user(teammate).post(URL, {"model": "iris", "version": 1, "input_from": str(earlier.uuid),
                                            "id_column": "id"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["input"]["id"] == str(earlier.input.uuid) and response.json()["alias"] == ""


def test_a_viewer_gets_403_and_nothing_is_kept(as_user, viewer, ready_iris, kept_nothing):
    response = as_user(viewer).post(URL, {"model": "iris", "alias": "production",
                                          "file": upload(csv_bytes(iris_like(5)))}, format="multipart")
    assert response.status_code == 403 and kept_nothing()


def test_an_outsider_gets_404_for_the_model_and_for_an_earlier_job(as_user, outsider, owner, ready_iris,
                                                                    kept_nothing):
    response = as_user(outsider).post(URL, {"model": "iris", "alias": "production",
                                            "file": upload(csv_bytes(iris_like(5)))}, format="multipart")
    assert response.status_code == 404 and kept_nothing()


@pytest.mark.parametrize(("fields", "status", "code", "field"), [
    ({"alias": "production"}, 400, "invalid", "model"),
    ({"model": "iris"}, 400, "invalid", "version"),
    ({"model": "iris", "alias": "production", "version": 1}, 400, "invalid", "version"),
    ({"model": "iris", "alias": "production", "max_error_rate": "nan"}, 400, "invalid", "max_error_rate"),
    ({"model": "iris", "alias": "production", "max_error_rate": "2"}, 400, "max_value", "max_error_rate"),
    ({"model": "iris", "alias": "nightly"}, 404, "not_found", None),
    ({"model": "iris", "version": 7}, 404, "not_found", None),
    ({"model": "iris", "alias": "production", "output_format": "xlsx"}, 400, "invalid_choice", "output_format"),
    ({"model": "iris", "alias": "production", "id_column": "a\x00b"}, 400, "invalid", "id_column"),
])
def test_bad_fields_are_4xx_naming_the_field_and_keep_nothing(as_user, teammate, ready_iris, kept_nothing,
                                                               fields, status, code, field):
    response = as_user(teammate).post(URL, {**fields, "file": upload(csv_bytes(iris_like(5)))},
                                      format="multipart")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code and response.json()["error"]["field"] == field
    assert kept_nothing()


def test_a_bad_file_is_a_400_naming_the_problem(as_user, teammate, ready_iris, kept_nothing):
    response = as_user(teammate).post(URL, {"model": "iris", "alias": "production",
                                            "file": upload(b"sepal_length,sepal_width\n1,2\n")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "wrong_feature_count", "field": "file", "message":
                                        "The input has 2 columns; the model takes 4; name an id column in id_column"}
    assert kept_nothing()


def test_json_needs_an_earlier_job_and_an_unknown_one_is_404(as_user, teammate, ready_iris):
    client = as_user(teammate)
    missing = client.post(URL, {"model": "iris", "alias": "production"}, format="json")
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "file"
    unknown = client.post(URL, {"model": "iris", "alias": "production",
                                "input_from": "00000000-0000-4000-8000-000000000001"}, format="json")
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "input_from"


def test_an_upload_past_the_size_limit_is_413_and_leaves_nothing(as_user, teammate, ready_iris, kept_nothing,
                                                                 settings):
    settings.MODELYARD_MAX_UPLOAD_BYTES = 1000
    response = as_user(teammate).post(URL, {"model": "iris", "alias": "production", "id_column": "id",
                                            "file": upload(csv_bytes(iris_like(200)))}, format="multipart")
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert kept_nothing()
