"""DELETE /api/v1/models/{name}/versions/{number}: maintainers; 409 while in use; outsiders 404."""

from conftest import make_version

URL = "/api/v1/models/iris/versions/2"


def test_a_maintainer_deletes_an_unused_version(as_user, maintainer, model, owner, iris_onnx, ready_iris):
    make_version(model, owner, iris_onnx[0])
    response = as_user(maintainer).delete(URL)
    assert response.status_code == 200 and response.json()["status"] == "deleted"
    assert as_user(maintainer).get(URL).json()["status"] == "deleted"


def test_deleting_the_aliased_version_is_409_and_changes_nothing(as_user, maintainer, ready_iris):
    response = as_user(maintainer).delete("/api/v1/models/iris/versions/1")
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_in_use"
    assert as_user(maintainer).get("/api/v1/models/iris/versions/1").json()["status"] == "ready"


def test_a_deleted_version_does_not_serve(as_user, maintainer, teammate, model, owner, iris_onnx, ready_iris):
    make_version(model, owner, iris_onnx[0])
    as_user(maintainer).delete(URL)
    response = as_user(teammate).post(URL + "/predict", {"inputs": [[5.1, 3.5, 1.4, 0.2]]}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_not_ready"
