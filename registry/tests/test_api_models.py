from registry.models import AuditEvent, RegisteredModel


def test_a_maintainer_registers_a_model_in_their_team(as_user, maintainer):
    response = as_user(maintainer).post("/api/v1/models", {"team": "acme", "name": "churn", "tags": {"x": "1"}},
                                        format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["team"] == "acme" and response.json()["aliases"] == {}
    assert AuditEvent.objects.filter(action="model.create", actor=maintainer).exists()


def test_a_viewer_cannot_register_a_model(as_user, viewer):
    response = as_user(viewer).post("/api/v1/models", {"team": "acme", "name": "churn"}, format="json")
    assert response.status_code == 403
    assert not RegisteredModel.objects.exists()


def test_an_outsider_gets_404_for_another_teams_team(as_user, outsider, team):
    response = as_user(outsider).post("/api/v1/models", {"team": "acme", "name": "churn"}, format="json")
    assert response.status_code == 404 and response.json()["error"]["field"] == "team"
    assert not RegisteredModel.objects.exists()


def test_duplicate_and_invalid_names_are_refused(as_user, maintainer, model):
    client = as_user(maintainer)
    duplicate = client.post("/api/v1/models", {"team": "acme", "name": "iris"}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["field"] == "name"
    invalid = client.post("/api/v1/models", {"team": "acme", "name": "Bad Name!"}, format="json")
    assert invalid.status_code == 400 and invalid.json()["error"]["field"] == "name"


def test_models_are_listed_only_for_their_teams(as_user, viewer, outsider, model):
    assert [m["name"] for m in as_user(viewer).get("/api/v1/models").json()["results"]] == ["iris"]
    assert as_user(outsider).get("/api/v1/models").json()["results"] == []
    assert as_user(outsider).get("/api/v1/models/iris").status_code == 404


def test_staff_see_every_team(as_user, model):
    from registry.tests.factories import UserFactory

    staff = UserFactory(username="sam-staff", is_staff=True)
    assert as_user(staff).get("/api/v1/models/iris").status_code == 200


def test_a_maintainer_updates_the_description_and_it_is_audited(as_user, maintainer, model):
    response = as_user(maintainer).patch("/api/v1/models/iris", {"description": "v2 flowers"}, format="json")
    assert response.status_code == 200 and response.json()["description"] == "v2 flowers"
    event = AuditEvent.objects.get(action="model.update")
    assert event.before == {"description": ""} and event.after == {"description": "v2 flowers"}


def test_team_cannot_be_changed_by_update(as_user, maintainer, model, outsider):
    response = as_user(maintainer).patch("/api/v1/models/iris", {"team": "other-team", "name": "x"}, format="json")
    assert response.status_code == 200
    model.refresh_from_db()
    assert (model.team.slug, model.name) == ("acme", "iris")
