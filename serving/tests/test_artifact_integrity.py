"""An artifact changed on disk after upload: the version is taken out of service, on the record,
and traffic through its alias stays on the last good version."""

from pathlib import Path

from conftest import make_version
from registry import services
from registry.artifacts import artifact_storage
from registry.models import AuditEvent, ModelVersion

PREDICT = "/api/v1/models/iris/aliases/production/predict"


def tamper(version: ModelVersion) -> None:
    path = Path(artifact_storage().path(version.serving_storage_key))
    path.write_bytes(path.read_bytes() + b"appended by an attacker")


def test_a_tampered_version_is_quarantined_and_its_alias_falls_back(as_user, teammate, owner, model, ready_iris,
                                                                    iris_onnx, iris_rows):
    second = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="production", version=second)
    tamper(second)
    client = as_user(teammate)
    response = client.post(PREDICT, {"inputs": iris_rows}, format="json")
    assert response.status_code == 200 and response.json()["version"] == 1
    second.refresh_from_db()
    assert second.status == "failed" and "sha256" in second.status_message
    event = AuditEvent.objects.get(action="version.integrity_failed")
    assert event.target == "model:iris/v2" and event.after["status"] == "failed"
    by_number = client.post("/api/v1/models/iris/versions/2/predict", {"inputs": iris_rows}, format="json")
    assert by_number.status_code == 409


def test_with_no_good_version_left_the_caller_gets_a_clear_409(as_user, teammate, ready_iris, iris_rows):
    tamper(ready_iris)
    response = as_user(teammate).post(PREDICT, {"inputs": iris_rows}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_not_ready"
    assert AuditEvent.objects.filter(action="version.integrity_failed").count() == 1


def test_a_converted_versions_onnx_copy_is_checked_too(as_user, teammate, owner, model, iris_skops, iris_rows):
    version = make_version(model, owner, iris_skops)
    assert version.serving_storage_key != version.storage_key
    tamper(version)
    response = as_user(teammate).post("/api/v1/models/iris/versions/1/predict", {"inputs": iris_rows}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_not_ready"
    version.refresh_from_db()
    assert version.status == "failed" and "sha256" in version.status_message


def test_every_protocol_falls_back_to_the_last_good_version(as_user, teammate, owner, model, ready_iris, iris_onnx):
    second = make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="production", version=second)
    tamper(second)
    client = as_user(teammate)
    mlflow = client.post("/api/v1/models/iris/aliases/production/invocations", {"instances": [[5.1, 3.5, 1.4, 0.2]]},
                         format="json")
    assert mlflow.status_code == 200
    v2 = client.post("/v2/models/iris/infer", {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",
                                                           "data": [5.1, 3.5, 1.4, 0.2]}]}, format="json")
    assert v2.status_code == 200 and v2.json()["model_version"] == "1"


def test_a_briefly_missing_file_is_503_and_changes_nothing(as_user, teammate, ready_iris, iris_rows):
    path = Path(artifact_storage().path(ready_iris.serving_storage_key))
    hidden = path.with_suffix(".away")
    path.rename(hidden)
    client = as_user(teammate)
    response = client.post("/api/v1/models/iris/versions/1/predict", {"inputs": iris_rows}, format="json")
    assert response.status_code == 503 and response.json()["error"]["code"] == "artifact_unavailable"
    assert response["Retry-After"] == "1"
    hidden.rename(path)
    ready_iris.refresh_from_db()
    assert ready_iris.status == "ready" and not AuditEvent.objects.filter(action="version.integrity_failed").exists()
    again = client.post("/api/v1/models/iris/versions/1/predict", {"inputs": iris_rows}, format="json")
    assert again.status_code == 200
