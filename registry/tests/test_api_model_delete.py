"""DELETE /api/v1/models/{name}: maintainers delete a model that never had a version; nobody else, nothing else."""

from conftest import make_version
from registry.models import AuditEvent, RegisteredModel


def test_a_maintainer_deletes_an_empty_model(as_user, maintainer, model):
    answer = as_user(maintainer).delete("/api/v1/models/iris")
    assert answer.status_code == 204
    assert not RegisteredModel.objects.filter(name="iris").exists()
    assert AuditEvent.objects.filter(action="model.delete", target="model:iris").count() == 1
    assert as_user(maintainer).get("/api/v1/models/iris").status_code == 404


def test_a_model_with_versions_is_409_with_the_envelope(as_user, maintainer, owner, model, iris_onnx):
    make_version(model, owner, iris_onnx[0])
    answer = as_user(maintainer).delete("/api/v1/models/iris")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "conflict"
    assert RegisteredModel.objects.filter(name="iris").exists()


def test_a_viewer_gets_403_and_an_outsider_404(as_user, viewer, outsider, model):
    assert as_user(viewer).delete("/api/v1/models/iris").status_code == 403
    assert as_user(outsider).delete("/api/v1/models/iris").status_code == 404
    assert RegisteredModel.objects.filter(name="iris").exists()
    assert not AuditEvent.objects.filter(action="model.delete").exists()
