def test_an_unknown_route_is_a_json_404(client, db):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_wrong_method_is_a_json_405(as_user, viewer):
    response = as_user(viewer).delete("/api/v1/models")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_validation_errors_name_the_field(as_user, viewer):
    response = as_user(viewer).post("/api/v1/teams", {"slug": "not a slug!"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "slug"


def test_unsupported_media_type_is_415(as_user, teammate, ready_iris):
    response = as_user(teammate).post("/api/v1/models/iris/aliases/production/predict", "inputs=1",
                                      content_type="text/plain")
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
