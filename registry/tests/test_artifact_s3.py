"""The ``s3`` artifact storage against a real S3 API (moto's server on loopback): upload, download,
the local cache (one GET per machine, a size budget), missing objects and the orphan sweep."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import make_version
from registry.artifacts import artifact_local_path, artifact_new_key, artifact_open, artifact_save
from registry.models import ModelVersion
from registry.services.storage import artifacts_sweep_orphans

URL = "/api/v1/models/iris/versions"


def test_an_upload_lands_in_the_bucket_and_downloads_byte_for_byte(as_user, maintainer, model, iris_onnx,
                                                                   s3_storage):
    client = as_user(maintainer)
    response = client.post(URL, {"file": SimpleUploadedFile("m.onnx", iris_onnx[0])}, format="multipart")
    assert response.status_code == 201, response.content
    version = ModelVersion.objects.get()
    assert s3_storage.keys() == [version.storage_key] and s3_storage.raw(version.storage_key) == iris_onnx[0]
    download = client.get("/api/v1/models/iris/versions/1/artifact")
    assert download.status_code == 200 and b"".join(download.streaming_content) == iris_onnx[0]
    assert download["X-Checksum-SHA256"] == hashlib.sha256(iris_onnx[0]).hexdigest()


def test_the_cache_keeps_under_its_budget_least_recently_used_first(model, s3_storage, settings):
    settings.MODELYARD_ARTIFACT_CACHE_BYTES = 2500
    blobs = {artifact_new_key(model.id): bytes([n]) * 1000 for n in range(3)}
    for key, data in blobs.items():
        artifact_save(key, ContentFile(data))
    first, second, third = ((key, hashlib.sha256(data).hexdigest()) for key, data in blobs.items())
    paths = [artifact_local_path(*first), artifact_local_path(*second)]
    artifact_local_path(*first)  # a hit: now the most recently used
    paths.append(artifact_local_path(*third))  # 3000 bytes > 2500: the least recently used goes
    assert [path.exists() for path in paths] == [True, False, True]
    assert s3_storage.gets(second[0]) == 1
    assert artifact_local_path(*second).read_bytes() == blobs[second[0]]  # downloaded again when needed
    assert s3_storage.gets(second[0]) == 2


def test_a_missing_object_is_file_not_found_and_the_sweep_works_on_s3(model, owner, iris_onnx, s3_storage):
    with pytest.raises(FileNotFoundError):
        artifact_local_path(artifact_new_key(model.id), "0" * 64)
    with pytest.raises(FileNotFoundError):
        artifact_open(artifact_new_key(model.id))
    version = make_version(model, owner, iris_onnx[0], validate=False)
    orphan = artifact_new_key(model.id)
    artifact_save(orphan, ContentFile(b"orphaned bytes"))
    assert artifacts_sweep_orphans(older_than=timedelta(0))["removed"] == 1
    assert s3_storage.keys() == [version.storage_key]
