"""torch.export programs (.pt2) as versions. torch.export.load unpickles parts of the archive, so a
.pt2 is gated like pickle: only trusted publishers (registry.publish_pickle) on a deployment that allows
pickle may upload one, only the validating worker loads it, and web processes load it only when torch
serves it (the ONNX export was not exact). Predictions through the API match torch on held-out rows."""

import io
import json
import os
import zipfile

import numpy as np
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import make_version, stored_files, wait_for_status
from modelkit.tests import framework_models as fm
from registry.models import AuditEvent, ModelVersion

pytestmark = pytest.mark.skipif(fm._Scaled is None and not os.environ.get("MODELYARD_REQUIRE_TORCH"),
                                reason="torch is an optional extra (requirements-torch.txt); CI installs it")
URL = "/api/v1/models/iris/versions"


class Marker:
    """Unpickling this writes the loading process's pid to a file: the attacker's side effect."""

    def __init__(self, path) -> None:  # type: ignore[no-untyped-def]
        self.path = str(path)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"import os; open({self.path!r}, 'w').write(str(os.getpid()))",))


@pytest.fixture
def trusted(maintainer):
    maintainer.user_permissions.add(Permission.objects.get(codename="publish_pickle"))
    return type(maintainer).objects.get(pk=maintainer.pk)


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {"MODELYARD_ALLOW_PICKLE": "true"}


def upload(client, data: bytes, name: str = "model.pt2", **fields):  # type: ignore[no-untyped-def]
    return client.post(URL, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


def predicted(client, number: int, rows: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    response = client.post(f"{URL}/{number}/predict", {"inputs": rows.tolist()}, format="json")
    assert response.status_code == 200, response.content
    return np.asarray(response.json()["outputs"]["predictions"])


def _served_like_torch(client, version: ModelVersion, trained: fm.Trained, case: str) -> None:  # type: ignore[no-untyped-def]
    answer = predicted(client, version.version, trained.held_out)
    difference = float(np.max(np.abs(answer - trained.expected)))
    print(f"\n{case}: {version.serving_note} | API vs torch on {len(answer)} held-out rows: max abs difference "
          f"{difference:.3g}")
    np.testing.assert_allclose(answer, trained.expected, rtol=1e-4, atol=1e-4)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_trusted_publishers_pt2_is_validated_by_the_worker_and_served_as_onnx(worker, as_user, trusted, teammate,
                                                                                  model, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    trained = fm.torch_export_model()
    response = upload(as_user(trusted), trained.data, name="renamed.onnx")
    assert response.status_code == 201, response.content
    assert response.json()["format"] == "pt2"
    version = wait_for_status(1, timeout=180)
    assert version.status == "ready", version.status_message
    assert version.signature["inputs"]["features"] == trained.held_out.shape[1]  # recorded by the program
    assert version.serving_format == "onnx", version.serving_note
    assert version.serving_note.startswith("served by onnxruntime: converted with torch.onnx, outputs match on 200 ")
    settings.MODELYARD_ALLOW_PICKLE = False  # the web process answers from the ONNX copy: no unpickling here
    _served_like_torch(as_user(teammate), version, trained, "pt2")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_pt2_whose_export_is_not_exact_is_served_by_torch(worker, as_user, trusted, teammate, model, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    trained = fm.torch_export_model(exact=False)
    response = upload(as_user(trusted), trained.data, input_example=json.dumps(trained.held_out[:3].tolist()))
    assert response.status_code == 201, response.content
    version = wait_for_status(1, timeout=180)
    assert version.status == "ready", version.status_message
    assert version.serving_format == "pt2" and version.serving_storage_key == version.storage_key
    assert version.serving_note.startswith("served by PyTorch: torch.onnx cannot convert it (DispatchError: ")
    _served_like_torch(as_user(teammate), version, trained, "pt2-not-exportable")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_trusted_pt2_runs_its_payload_only_in_the_validating_worker(worker, as_user, trusted, model, settings,
                                                                      tmp_path):
    settings.MODELYARD_ALLOW_PICKLE = True
    marker = tmp_path / "pwned-by"
    response = upload(as_user(trusted), fm.pt2_with_payload(fm.torch_export_model().data, Marker(marker)))
    assert response.status_code == 201 and response.json()["format"] == "pt2"
    version = wait_for_status(1, timeout=180)
    assert marker.read_text() == str(worker.pid) != str(os.getpid())
    assert version.status == "failed"
    assert version.status_message.startswith("PyTorch cannot load this torch.export program: "), version.status_message


@pytest.mark.parametrize("allow_pickle", [True, False])
def test_an_untrusted_uploader_is_refused_and_nothing_is_kept(as_user, maintainer, model, artifact_root, settings,
                                                              tmp_path, allow_pickle):
    settings.MODELYARD_ALLOW_PICKLE = allow_pickle
    marker = tmp_path / "pwned-by"
    audited = AuditEvent.objects.count()
    response = upload(as_user(maintainer), fm.pt2_with_payload(fm.torch_export_model().data, Marker(marker)))
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "permission_denied" and error["field"] == "file"
    if allow_pickle:
        assert error["message"].startswith("Only trusted publishers (permission registry.publish_pickle) may upload "
                                           "torch.export (.pt2) artifacts: loading one runs code"), error
    else:
        assert error["message"].startswith("torch.export (.pt2) artifacts run code when loaded and are disabled on "
                                           "this deployment"), error
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == []
    assert AuditEvent.objects.count() == audited and not marker.exists()


def test_a_corrupt_pt2_fails_its_version_clearly(model, owner, artifact_root, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    owner.user_permissions.add(Permission.objects.get(codename="publish_pickle"))
    owner = type(owner).objects.get(pk=owner.pk)
    data = fm.torch_export_model().data
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(broken, "w") as target:
        for name in source.namelist():
            target.writestr(name, b"garbage" if name.endswith("/models/model.json") else source.read(name))
    version = make_version(model, owner, broken.getvalue())
    assert version.format == "pt2" and version.status == "failed"
    assert version.status_message == ("PyTorch cannot load this torch.export program: JSONDecodeError: Expecting "
                                      "value: line 1 column 1 (char 0)")
    assert version.serving_storage_key == "" and len(stored_files(artifact_root)) == 1  # the upload only


def test_a_declared_shape_that_contradicts_the_program_fails(model, owner, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    owner.user_permissions.add(Permission.objects.get(codename="publish_pickle"))
    owner = type(owner).objects.get(pk=owner.pk)
    version = make_version(model, owner, fm.torch_export_model().data, signature={"inputs": {"features": 4}})
    assert version.status == "failed"
    assert version.status_message == ("The declared signature does not match the model: declared 4 input features, "
                                      "the model takes 10")
