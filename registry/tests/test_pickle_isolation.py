"""A pickle that runs code when loaded never runs in the web process; with pickle enabled for
trusted publishers it runs only in the worker that validates it. The marker file says which
process ran it."""

import os
import pickle
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import wait_for_status
from registry.models import ModelVersion

URL = "/api/v1/models/iris/versions"


class MarkerPayload:
    """Unpickling this writes the loading process's pid to a file: the attacker's side effect."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"import os; open({self.marker!r}, 'w').write(str(os.getpid()))",))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned-by"


@pytest.fixture
def trusted(maintainer):
    maintainer.user_permissions.add(Permission.objects.get(codename="publish_pickle"))
    return type(maintainer).objects.get(pk=maintainer.pk)


def upload(client, data: bytes, name: str = "model.onnx"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_with_pickle_disabled_nothing_runs_anywhere(as_user, trusted, model, marker, settings):
    settings.MODELYARD_ALLOW_PICKLE = False
    response = upload(as_user(trusted), pickle.dumps(MarkerPayload(marker)))
    assert response.status_code == 403
    assert not marker.exists() and not ModelVersion.objects.exists()


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {"MODELYARD_ALLOW_PICKLE": "true"}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_enabled_pickle_runs_only_in_the_validating_worker(worker, as_user, trusted, model, marker, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    client = as_user(trusted)
    response = upload(client, pickle.dumps(MarkerPayload(marker)), name="renamed.onnx")
    assert response.status_code == 201 and response.json()["format"] == "pickle"
    version = wait_for_status(1)
    assert marker.read_text() == str(worker.pid) != str(os.getpid())
    assert version.status == "failed" and "no predict" in version.status_message
    marker.unlink()
    predicted = client.post(f"{URL}/1/predict", {"inputs": [[1.0]]}, format="json")
    assert predicted.status_code == 409 and not marker.exists()
