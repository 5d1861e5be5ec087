"""The newcomer's whole flow on the ``s3`` artifact storage, with and without encryption at rest:
upload (in parts past 8 MiB), validation on a real Celery worker, predictions from gunicorn, a batch
job's input and output, and both downloads. The S3 API is moto's server on loopback; the worker and
the web server each keep their own local cache, so each pays one GET per artifact, no more."""

import hashlib
import io
import urllib.request
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batch.models import BatchJob
from batch.tests.conftest import csv_bytes, iris_like
from batch.tests.live import wait_for_job
from conftest import wait_for_status
from registry.envelope import MAGIC, new_key, parse_keys
from registry.models import ModelVersion
from registry.tokens import RefreshToken

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["plain", "encrypted"])
def keys(request, settings) -> str:
    text = f"k1:{new_key()}" if request.param == "encrypted" else ""
    settings.MODELYARD_ARTIFACT_KEYS = parse_keys(text)
    return text


@pytest.fixture
def worker_env(s3_storage, keys, tmp_path: Path) -> dict[str, str]:
    return {**s3_storage.env(), "MODELYARD_ARTIFACT_KEYS": keys, "MODELYARD_BATCH_CHUNK_ROWS": "50",
            "MODELYARD_ARTIFACT_CACHE_DIR": str(tmp_path / "worker-cache")}


@pytest.fixture
def web_env(s3_storage, keys, tmp_path: Path) -> dict[str, str]:
    return {**s3_storage.env(), "MODELYARD_ARTIFACT_KEYS": keys,
            "MODELYARD_ARTIFACT_CACHE_DIR": str(tmp_path / "web-cache")}


def call(url: str, token: str, body: dict | None = None) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=None if body is None else orjson.dumps(body),
                                     method="GET" if body is None else "POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), dict(response.headers)


def test_the_whole_flow_runs_on_s3(s3_storage, keys, worker, web_server, as_user, maintainer, teammate, model,
                                   iris_onnx, settings):
    settings.MODELYARD_BATCH_CHUNK_ROWS = 50
    client = as_user(maintainer)
    created = client.post("/api/v1/models/iris/versions", {"file": SimpleUploadedFile("iris.onnx", iris_onnx[0])},
                          format="multipart")
    assert created.status_code == 201, created.content
    version = wait_for_status(1)
    assert version.status == "ready", version.status_message
    assert s3_storage.gets(version.storage_key) == 1  # the worker's validation
    assert client.put("/api/v1/models/iris/aliases/production", {"version": 1}, format="json").status_code == 200

    token, base = str(RefreshToken.for_user(teammate).access_token), web_server
    rows = iris_like(120, seed=7)
    for _ in range(8):  # two gunicorn workers, one cache folder: one GET between them
        body, _ = call(f"{base}/api/v1/models/iris/aliases/production/predict", token, {"inputs": rows.tolist()})
    online = orjson.loads(body)["outputs"]
    assert len(online["labels"]) == 120
    assert s3_storage.gets(version.serving_storage_key) == 2  # the worker's validation, the web server
    stored = s3_storage.raw(version.storage_key)
    assert stored.startswith(MAGIC) is bool(keys) and (stored == iris_onnx[0]) is not bool(keys)

    artifact, headers = call(f"{base}/api/v1/models/iris/versions/1/artifact", token)
    assert artifact == iris_onnx[0] and headers["X-Checksum-SHA256"] == hashlib.sha256(artifact).hexdigest()

    job = as_user(teammate).post("/api/v1/batch-jobs", {"model": "iris", "alias": "production", "id_column": "id",
                                                        "file": SimpleUploadedFile("in.csv", csv_bytes(rows))},
                                 format="multipart").json()
    done = wait_for_job(job["id"])
    assert done.status == "succeeded" and done.rows_done == 120, done.status_message
    saved = BatchJob.objects.get(uuid=job["id"])
    assert s3_storage.gets(saved.input.storage_key) == 1  # three chunks, one download
    assert s3_storage.raw(saved.output_key).startswith(MAGIC) is bool(keys)
    output, headers = call(f"{base}/api/v1/batch-jobs/{job['id']}/output", token)
    assert headers["X-Checksum-SHA256"] == hashlib.sha256(output).hexdigest()
    assert pq.read_table(io.BytesIO(output)).column("labels").to_pylist() == online["labels"]
    assert not list(Path(settings.FILE_UPLOAD_TEMP_DIR).glob("*.upload*"))
    assert ModelVersion.objects.count() == 1
