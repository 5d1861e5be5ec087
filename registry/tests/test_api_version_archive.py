"""POST /api/v1/models/{name}/versions/{number}/archive and .../restore: maintainers only, 409s explained."""

import pytest

from conftest import make_version
from registry.models import AuditEvent, ModelVersion, VersionStatus

URL = "/api/v1/models/iris/versions"


@pytest.fixture
def spare(ready_iris, model, owner, iris_onnx) -> ModelVersion:
    """Version 2: ready, and no alias points at it (production points at version 1)."""
    version = make_version(model, owner, iris_onnx[0])
    assert (version.version, version.status) == (2, VersionStatus.READY), version.status_message
    return version


def status_of(version: ModelVersion) -> str:
    return ModelVersion.objects.get(pk=version.pk).status


def test_a_maintainer_archives_a_version(as_user, maintainer, spare):
    response = as_user(maintainer).post(f"{URL}/2/archive", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2 and response.json()["status"] == "archived"
    assert status_of(spare) == VersionStatus.ARCHIVED
    event = AuditEvent.objects.get(action="version.archive")
    assert (event.actor, event.target, event.ip) == (maintainer, "model:iris/v2", "10.1.2.3")


def test_an_owner_may_archive_too(as_user, owner, spare):
    assert as_user(owner).post(f"{URL}/2/archive").status_code == 200


def test_an_aliased_version_is_409_with_the_reason(as_user, maintainer, ready_iris):
    response = as_user(maintainer).post(f"{URL}/1/archive")
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("version_aliased", "version") and "production" in error["message"]
    assert status_of(ready_iris) == VersionStatus.READY


def test_archiving_an_archived_version_is_409(as_user, maintainer, spare):
    client = as_user(maintainer)
    assert client.post(f"{URL}/2/archive").status_code == 200
    again = client.post(f"{URL}/2/archive")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_archived"
    assert AuditEvent.objects.filter(action="version.archive").count() == 1


@pytest.mark.parametrize("persona", ["viewer", "teammate"])
def test_readers_get_403(request, as_user, spare, persona):
    response = as_user(request.getfixturevalue(persona)).post(f"{URL}/2/archive")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert status_of(spare) == VersionStatus.READY


def test_an_outsider_gets_404_like_for_a_model_that_does_not_exist(as_user, outsider, spare):
    client = as_user(outsider)
    assert client.post(f"{URL}/2/archive").status_code == 404
    assert client.post("/api/v1/models/nope/versions/2/archive").status_code == 404
    assert status_of(spare) == VersionStatus.READY


def test_an_unknown_version_is_404_and_anonymous_is_401(as_user, client, maintainer, spare):
    assert as_user(maintainer).post(f"{URL}/9/archive").status_code == 404
    assert client.post(f"{URL}/2/archive").status_code == 401
    assert as_user(maintainer).get(f"{URL}/2/archive").status_code == 405
    assert status_of(spare) == VersionStatus.READY


def test_an_archived_version_neither_serves_nor_takes_an_alias(as_user, maintainer, teammate, spare, iris_rows):
    assert as_user(maintainer).post(f"{URL}/2/archive").status_code == 200
    predicted = as_user(teammate).post(f"{URL}/2/predict", {"inputs": iris_rows}, format="json")
    assert predicted.status_code == 409 and predicted.json()["error"]["code"] == "version_not_ready"
    moved = as_user(maintainer).put("/api/v1/models/iris/aliases/staging", {"version": 2}, format="json")
    assert moved.status_code == 409 and moved.json()["error"]["code"] == "version_not_ready"


def test_restore_brings_it_back(as_user, maintainer, teammate, spare, iris_rows):
    client = as_user(maintainer)
    assert client.post(f"{URL}/2/archive").status_code == 200
    assert as_user(teammate).post(f"{URL}/2/restore").status_code == 403
    restored = client.post(f"{URL}/2/restore")
    assert restored.status_code == 200 and restored.json()["status"] == "ready"
    assert AuditEvent.objects.filter(action="version.restore", actor=maintainer).count() == 1
    assert as_user(teammate).post(f"{URL}/2/predict", {"inputs": iris_rows}, format="json").status_code == 200
    again = client.post(f"{URL}/2/restore")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_archived"
