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


def test_the_demo_publishes_production_then_protects_it(db, as_user):
    from django.contrib.auth import get_user_model

    from registry.models import AuditEvent

    out = StringIO()
    call_command("load_demo", stdout=out)
    assert [m.protected_aliases for m in RegisteredModel.objects.all()] == [["production"], ["production"]]
    steps = [e.action for e in AuditEvent.objects.filter(target__startswith="model:iris").order_by("id")]
    assert steps[0] == "model.create" and steps[-2:] == ["alias.set", "model.update"]
    admin = get_user_model().objects.get(username="admin")
    response = as_user(admin).put("/api/v1/models/iris/aliases/production", {"version": 1}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "approval_required"
    listing = as_user(admin).get("/api/v1/models/iris/promotions")  # the printed command
    assert "/api/v1/models/iris/promotions" in out.getvalue() and listing.status_code == 200
