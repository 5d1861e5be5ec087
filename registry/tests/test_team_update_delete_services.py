"""team_update renames a team's display name; team_delete removes a team that holds no models."""

import pytest

from core.errors import Conflict, ModelyardError
from registry import services
from registry.models import AuditEvent, Membership, Team


def test_renaming_a_team_is_audited(team, owner):
    services.team_update(actor=owner, team=team, name="Acme Corp", ip="10.0.0.9")
    assert Team.objects.get(pk=team.pk).name == "Acme Corp"
    event = AuditEvent.objects.get(action="team.update")
    assert (event.team, event.target, event.before, event.after, event.ip) == (
        team, "team:acme", {"name": "Acme"}, {"name": "Acme Corp"}, "10.0.0.9")


def test_an_unchanged_name_records_nothing(team, owner):
    services.team_update(actor=owner, team=team, name=team.name)
    assert not AuditEvent.objects.filter(action="team.update").exists()


def test_a_blank_name_is_refused(team, owner):
    with pytest.raises(ModelyardError) as caught:
        services.team_update(actor=owner, team=team, name="   ")
    assert caught.value.field == "name" and Team.objects.get(pk=team.pk).name == "Acme"


def test_a_team_without_models_is_deleted_with_its_members_on_record(team, owner, viewer):
    services.team_delete(actor=owner, team=team, ip="10.0.0.9")
    assert not Team.objects.filter(slug="acme").exists() and not Membership.objects.filter(team_id=team.pk).exists()
    event = AuditEvent.objects.get(action="team.delete")
    assert event.target == "team:acme" and event.team is None and event.actor == owner
    assert event.before == {"name": "Acme", "members": {"olivia-owner": "owner", "vera-viewer": "viewer"}}


def test_a_team_that_holds_models_is_not_deleted(model, owner):
    with pytest.raises(Conflict) as caught:
        services.team_delete(actor=owner, team=model.team)
    assert caught.value.code == "team_not_empty"
    assert Team.objects.filter(slug="acme").exists() and Membership.objects.filter(team=model.team).exists()
    assert not AuditEvent.objects.filter(action="team.delete").exists()
