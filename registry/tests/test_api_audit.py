from conftest import make_version


def test_members_read_their_teams_audit_trail(as_user, viewer, outsider, model, owner, iris_onnx):
    make_version(model, owner, iris_onnx[0])
    actions = [e["action"] for e in as_user(viewer).get("/api/v1/audit").json()["results"]]
    assert actions == ["version.ready", "version.create"]
    assert as_user(outsider).get("/api/v1/audit").json()["results"] == []


def test_audit_is_filterable_by_action(as_user, viewer, model, owner, iris_onnx):
    make_version(model, owner, iris_onnx[0])
    body = as_user(viewer).get("/api/v1/audit", {"action": "version.create"}).json()
    assert [e["actor"] for e in body["results"]] == [owner.username]


def test_audit_events_cannot_be_changed_or_deleted(model, owner, iris_onnx):
    import pytest

    from registry.models import AuditEvent

    make_version(model, owner, iris_onnx[0])
    event = AuditEvent.objects.first()
    event.action = "nothing.happened"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
