"""Version metadata is bounded per field, list pages leave the heaviest out, and pages are capped."""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import make_version, stored_files
from core.errors import ModelyardError
from registry.api.pagination import Pagination
from registry.api.serializers import VERSION_DETAIL_ONLY
from registry.models import ModelVersion
from registry.services.versions import (
    INPUT_EXAMPLE_MAX_ROWS,
    METADATA_MAX_BYTES,
    METADATA_MAX_KEYS,
)

URL = "/api/v1/models/iris/versions"
KIB = 1024


def upload(client, data: bytes, **fields):
    body = {"file": SimpleUploadedFile("model.onnx", data)}
    body.update({k: json.dumps(v) if not isinstance(v, str) else v for k, v in fields.items()})
    return client.post(URL, body, format="multipart")


def test_the_documented_limits():
    assert METADATA_MAX_BYTES == {"metrics": 64 * KIB, "params": 64 * KIB, "tags": 64 * KIB, "lineage": 64 * KIB,
                                  "signature": 256 * KIB, "input_example": 1024 * KIB, "description": 64 * KIB}
    assert (METADATA_MAX_KEYS, INPUT_EXAMPLE_MAX_ROWS) == (1000, 100)
    assert Pagination.max_limit == 100


OVER_THE_LIMIT = [
    ({"params": {"blob": "x" * (64 * KIB)}}, "params"),
    ({"tags": {f"t{i}": i for i in range(1001)}}, "tags"),
    ({"metrics": {f"m{i}": 0.5 for i in range(1001)}}, "metrics"),
    ({"lineage": {"git_commit": "a" * (64 * KIB)}}, "lineage"),
    ({"input_example": [[1.0, 2.0, 3.0, 4.0]] * 101}, "input_example"),
    ({"input_example": {"a": [1.0] * 101}}, "input_example"),
    ({"input_example": [[0.123456789] * 30_000] * 5}, "input_example"),  # 5 rows, 1.6 MB
    ({"signature": {"inputs": {"dtype": "float32", "columns": [f"column-{i:07d}" for i in range(20_000)]}}},
     "signature"),
]


@pytest.mark.parametrize("fields,field", OVER_THE_LIMIT)
def test_metadata_over_a_limit_is_400_naming_the_field(as_user, maintainer, model, iris_onnx, artifact_root,
                                                        fields, field):
    response = upload(as_user(maintainer), iris_onnx[0], **fields)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field
    assert response.json()["error"]["code"] == "metadata_too_large"
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []


@pytest.mark.parametrize("fields,field", OVER_THE_LIMIT + [({"description": "é" * 40_000}, "description")])
def test_the_service_enforces_the_same_limits(model, owner, iris_onnx, fields, field):
    """Every caller (the API, the console, the demo loader) goes through version_create."""
    with pytest.raises(ModelyardError) as caught:
        make_version(model, owner, iris_onnx[0], validate=False, **fields)
    assert caught.value.field == field


def test_metadata_at_the_limits_is_accepted(as_user, maintainer, model, iris_onnx):
    fields = {"params": {f"p{i}": "v" * 50 for i in range(1000)},
              "input_example": [[5.1, 3.5, 1.4, 0.2]] * 100, "metrics": {"accuracy": 0.9}}
    response = upload(as_user(maintainer), iris_onnx[0], **fields)
    assert response.status_code == 201, response.content


def test_list_pages_leave_out_the_heavy_fields_and_the_detail_has_them(as_user, viewer, model, owner, iris_onnx):
    make_version(model, owner, iris_onnx[0], validate=False, input_example=[[5.1, 3.5, 1.4, 0.2]],
                 params={"C": 1.0}, metrics={"accuracy": 0.97})
    client = as_user(viewer)
    item = client.get(URL).json()["results"][0]
    assert VERSION_DETAIL_ONLY == ("input_example", "params")
    assert not set(VERSION_DETAIL_ONLY) & item.keys()
    assert item["metrics"] == {"accuracy": 0.97} and item["version"] == 1
    detail = client.get(f"{URL}/1").json()
    assert detail["input_example"] == [[5.1, 3.5, 1.4, 0.2]] and detail["params"] == {"C": 1.0}


def test_a_page_holds_at_most_100_versions(as_user, viewer, model, owner):
    ModelVersion.objects.bulk_create([
        ModelVersion(model=model, version=n, format="onnx", storage_key=f"models/{model.id}/{uuid.uuid4()}.bin",
                     sha256="0" * 64, size_bytes=1, created_by=owner) for n in range(1, 131)
    ])
    client = as_user(viewer)
    for limit in (101, 500, 10**9):
        body = client.get(URL, {"limit": limit}).json()
        assert body["count"] == 130 and len(body["results"]) == 100, limit
    assert len(client.get(URL).json()["results"]) == 50
