"""Artifact storage: any backend's error is a 503, orphans are swept, and cached artifacts are apart."""

import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import make_version, stored_files
from registry.artifacts import artifact_local_path, artifact_new_key, artifact_save, artifact_storage
from registry.models import AuditEvent, ModelVersion
from registry.services.storage import artifacts_sweep_orphans

URL = "/api/v1/models/iris/versions"


def use_storage(settings, backend: str, **options) -> None:
    settings.STORAGES = {**settings.STORAGES, "artifacts": {"BACKEND": backend, "OPTIONS": options}}


# --- storage errors are 503 -------------------------------------------------------------------

def test_an_object_store_that_does_not_answer_is_503_and_keeps_nothing(as_user, maintainer, model, iris_onnx,
                                                                         settings):
    use_storage(settings, "registry.tests.storages.UnreachableStorage")
    response = as_user(maintainer).post(URL, {"file": SimpleUploadedFile("m.onnx", iris_onnx[0])}, format="multipart")
    assert response.status_code == 503 and response["Retry-After"]
    error = response.json()["error"]
    assert error["code"] == "storage_unavailable" and "ReadTimeoutError" in error["message"]
    assert "s3.internal" not in error["message"]  # the backend's own message stays in the log
    assert not ModelVersion.objects.exists()


def test_s3_with_its_endpoint_down_is_503(as_user, maintainer, model, iris_onnx, settings):
    pytest.importorskip("boto3")  # S3 deployments install it; this suite runs it wherever it is
    from botocore.config import Config

    from conftest import free_port

    use_storage(settings, "storages.backends.s3.S3Storage", bucket_name="artifacts",
                endpoint_url=f"http://127.0.0.1:{free_port()}", access_key="test", secret_key="test",
                region_name="us-east-1", file_overwrite=False,
                client_config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1))
    response = as_user(maintainer).post(URL, {"file": SimpleUploadedFile("m.onnx", iris_onnx[0])}, format="multipart")
    assert response.status_code == 503 and response.json()["error"]["code"] == "storage_unavailable"
    assert not ModelVersion.objects.exists()


# --- orphans ----------------------------------------------------------------------------------

def age(root: Path, key: str, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(root / key, (then, then))


def test_the_sweep_removes_old_unreferenced_files_only_and_audits_them(model, owner, iris_skops, artifact_root):
    version = make_version(model, owner, iris_skops)  # accelerated: a second, converted file
    assert version.status == "ready" and version.serving_storage_key.endswith(".onnx")
    never_committed, dying_worker, fresh = (artifact_new_key(model.id) for _ in range(3))
    dying_worker = dying_worker.replace(".bin", ".onnx")
    for key in (never_committed, dying_worker, fresh):
        artifact_save(key, ContentFile(b"orphaned bytes"))
    for key in (version.storage_key, version.serving_storage_key, never_committed, dying_worker):
        age(artifact_root, key, days=2)

    result = artifacts_sweep_orphans(older_than=timedelta(hours=24))

    assert result == {"scanned": 5, "kept_recent": 1, "removed": 2}
    left = {str(p.relative_to(artifact_root)) for p in stored_files(artifact_root)}
    assert left == {version.storage_key, version.serving_storage_key, fresh}
    event = AuditEvent.objects.get(action="artifacts.orphans_removed")
    assert event.after["removed"] == 2 and set(event.after["keys"]) == {never_committed, dying_worker}


def test_the_sweep_works_on_an_object_store_and_on_an_empty_one(model, owner, iris_onnx, settings):
    use_storage(settings, "registry.tests.storages.ObjectStorage")
    assert artifacts_sweep_orphans(older_than=timedelta(0)) == {"scanned": 0, "kept_recent": 0, "removed": 0}
    version = make_version(model, owner, iris_onnx[0], validate=False)
    orphan = artifact_new_key(model.id)
    artifact_save(orphan, ContentFile(b"orphaned bytes"))
    assert artifacts_sweep_orphans(older_than=timedelta(0))["removed"] == 1
    assert artifact_storage().exists(version.storage_key) and not artifact_storage().exists(orphan)


def test_the_sweep_is_a_registered_beat_job(settings):
    from celery import current_app as app  # the project's app (registry must not import config)

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "registry.artifacts_sweep_orphans" in scheduled and "registry.artifacts_sweep_orphans" in app.tasks


# --- the local cache (object stores) ----------------------------------------------------------

@pytest.fixture
def object_store(settings, tmp_path: Path) -> Path:
    use_storage(settings, "registry.tests.storages.ObjectStorage")
    settings.ARTIFACT_CACHE_DIR = tmp_path / "cache"
    return settings.ARTIFACT_CACHE_DIR


def cache(data: bytes, model_id: int = 1) -> Path:
    key = artifact_new_key(model_id)
    artifact_save(key, ContentFile(data))
    return artifact_local_path(key, hashlib.sha256(data).hexdigest())


def test_cached_artifacts_each_have_a_folder_of_their_own(object_store):
    first, second, same_bytes = cache(b"first model"), cache(b"second model", 2), cache(b"first model")
    assert first.read_bytes() == same_bytes.read_bytes() == b"first model"
    assert len({first.parent, second.parent, same_bytes.parent}) == 3
    for path in (first, second, same_bytes):
        assert path.is_relative_to(object_store) and [p.name for p in path.parent.iterdir()] == [path.name]


def stealing_onnx(location: str) -> bytes:
    """An ONNX model whose weights are 'external data' at a path relative to the model file."""
    from onnx import TensorProto, helper

    weights = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        weights.external_data.add(key=key, value=value)
    graph = helper.make_graph([helper.make_node("Add", ["x", "W"], ["y"])], "steal",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], initializer=[weights])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8).SerializeToString()


def test_an_onnx_file_cannot_read_another_cached_artifact_by_its_sha256(object_store, tmp_path):
    import onnxruntime

    secret = np.array([1.5, 2.5, 3.5, 4.5], dtype=np.float32).tobytes()
    victim = cache(secret, model_id=7)
    attack = stealing_onnx(hashlib.sha256(secret).hexdigest())
    control = tmp_path / "control"  # the mechanism works when the weights do sit next to the model
    control.mkdir()
    (control / "model.onnx").write_bytes(attack)
    (control / victim.name).write_bytes(secret)
    session = onnxruntime.InferenceSession(str(control / "model.onnx"))
    assert session.run(None, {"x": np.zeros(4, np.float32)})[0].tolist() == [1.5, 2.5, 3.5, 4.5]

    attacker = cache(attack, model_id=8)
    with pytest.raises(Exception, match="(?i)external|exist|open|file"):
        onnxruntime.InferenceSession(str(attacker))
