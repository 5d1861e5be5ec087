"""model_update: renames are checked, moves between teams are recorded for both teams, values are typed."""

import pytest

from core.errors import Conflict, ModelyardError
from registry import services
from registry.models import AuditEvent, RegisteredModel
from registry.tests.factories import RegisteredModelFactory, TeamFactory


def test_a_rename_is_audited_under_the_old_name(model, maintainer):
    services.model_update(actor=maintainer, model=model, changes={"name": "iris-v2"}, ip="10.0.0.5")
    assert RegisteredModel.objects.get(pk=model.pk).name == "iris-v2"
    event = AuditEvent.objects.get(action="model.update")
    assert (event.target, event.before, event.after, event.ip) == (
        "model:iris", {"name": "iris"}, {"name": "iris-v2"}, "10.0.0.5")


@pytest.mark.parametrize("name", ["Iris", "", "a b", "-iris", "x" * 101])
def test_a_rename_must_be_a_valid_name(model, maintainer, name):
    with pytest.raises(ModelyardError) as caught:
        services.model_update(actor=maintainer, model=model, changes={"name": name})
    assert caught.value.field == "name" and RegisteredModel.objects.get(pk=model.pk).name == "iris"


def test_a_rename_onto_a_taken_name_is_a_conflict(model, maintainer):
    RegisteredModelFactory(team=model.team, name="taken")
    with pytest.raises(Conflict) as caught:
        services.model_update(actor=maintainer, model=model, changes={"name": "taken"})
    assert caught.value.field == "name" and not AuditEvent.objects.filter(action="model.update").exists()


def test_a_move_to_another_team_is_recorded_for_both_teams(model, maintainer):
    beta = TeamFactory(slug="beta")
    services.model_update(actor=maintainer, model=model, changes={"team": beta})
    assert RegisteredModel.objects.get(pk=model.pk).team == beta
    events = AuditEvent.objects.filter(action="model.update")
    assert sorted(e.team.slug for e in events) == ["acme", "beta"]
    assert {(repr(e.before), repr(e.after)) for e in events} == {("{'team': 'acme'}", "{'team': 'beta'}")}


@pytest.mark.parametrize(("field", "value"), [
    ("tags", ["not", "a", "dict"]), ("protected_aliases", "production"), ("protected_aliases", [1]),
    ("response_cache_seconds", -1), ("response_cache_seconds", 10**6), ("response_cache_seconds", True),
    ("description", None), ("team", "beta"), ("created_by", None),
])
def test_values_are_checked_whoever_calls(model, maintainer, field, value):
    with pytest.raises(ModelyardError) as caught:
        services.model_update(actor=maintainer, model=model, changes={field: value})
    assert caught.value.field == field
    assert not AuditEvent.objects.filter(action="model.update").exists()
