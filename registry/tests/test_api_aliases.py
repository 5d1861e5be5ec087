from conftest import make_version
from registry.models import ModelAlias

URL = "/api/v1/models/iris/aliases"


def test_a_maintainer_points_an_alias_at_a_ready_version(as_user, maintainer, model, owner, iris_onnx):
    make_version(model, owner, iris_onnx[0])
    response = as_user(maintainer).put(f"{URL}/staging", {"version": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 1 and response.json()["updated_by"] == maintainer.username
    assert as_user(maintainer).get("/api/v1/models/iris").json()["aliases"] == {"staging": 1}


def test_an_alias_on_a_pending_version_is_409(as_user, maintainer, model, owner, iris_onnx):
    make_version(model, owner, iris_onnx[0], validate=False)
    response = as_user(maintainer).put(f"{URL}/staging", {"version": 1}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_not_ready"
    assert not ModelAlias.objects.exists()


def test_an_alias_on_an_unknown_version_is_404(as_user, maintainer, model):
    assert as_user(maintainer).put(f"{URL}/staging", {"version": 3}, format="json").status_code == 404


def test_a_predictor_reads_but_cannot_move_aliases(as_user, teammate, ready_iris):
    client = as_user(teammate)
    assert client.get(f"{URL}/production").json()["version"] == 1
    assert client.put(f"{URL}/production", {"version": 1}, format="json").status_code == 403
    assert client.delete(f"{URL}/production").status_code == 403
    assert ModelAlias.objects.filter(name="production").exists()


def test_a_maintainer_deletes_an_alias(as_user, maintainer, ready_iris):
    assert as_user(maintainer).delete(f"{URL}/production").status_code == 204
    assert as_user(maintainer).get(f"{URL}/production").status_code == 404


def test_an_outsider_cannot_touch_aliases(as_user, outsider, ready_iris):
    client = as_user(outsider)
    assert client.get(URL).status_code == 404
    assert client.put(f"{URL}/production", {"version": 1}, format="json").status_code == 404
    assert client.delete(f"{URL}/production").status_code == 404
    assert ModelAlias.objects.filter(name="production").exists()
