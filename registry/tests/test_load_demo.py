"""The demo loader: an admin, a team and two served models, idempotent on a second run."""

from io import StringIO

from django.core.management import call_command

from registry.models import ModelAlias, RegisteredModel


def test_the_demo_serves_both_models_and_a_second_run_changes_nothing(db, as_user):
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "password:" in out.getvalue() and "/aliases/production/predict" in out.getvalue()
    aliases = ModelAlias.objects.select_related("version", "model")
    assert {a.model.name: a.version.status for a in aliases} == {"iris": "ready", "recommender": "ready"}
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    response = as_user(admin).post("/api/v1/models/iris/aliases/production/predict",
                                   {"inputs": [[5.1, 3.5, 1.4, 0.2]]}, format="json")
    assert response.status_code == 200 and response.json()["outputs"]["labels"] == [0]
    again = StringIO()
    call_command("load_demo", stdout=again)
    assert "exists already" in again.getvalue() and RegisteredModel.objects.count() == 2
