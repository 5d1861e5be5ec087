"""Manual actions: pause, resume, promote now, roll back now, abort; each an event with its actor and audited."""

import pytest

from core.errors import ModelyardError
from registry.models import AuditEvent, ModelAlias
from rollouts import services
from rollouts.services import rollout_tick


def alias() -> ModelAlias:
    return ModelAlias.objects.select_related("version").get(name="production")


def test_pause_and_resume_are_events_with_their_actor(start, owner, loaded_everywhere):
    rollout = start()
    rollout_tick(rollout_id=rollout.id)
    services.rollout_pause(actor=owner, rollout=rollout, reason="lunch")
    assert alias().candidate_weight == 5  # traffic stays as it was
    resumed = services.rollout_resume(actor=owner, rollout=rollout)
    assert resumed.status == "running"
    events = list(rollout.events.order_by("id").values_list("kind", "actor__username", "message"))
    assert events[-2:] == [("paused", owner.username, "lunch"), ("resumed", owner.username, "")]
    assert AuditEvent.objects.filter(action__in=["rollout.pause", "rollout.resume"]).count() == 2


def test_promote_now_moves_the_alias(start, owner, candidate):
    rollout = services.rollout_promote(actor=owner, rollout=start())
    assert rollout.status == "completed" and alias().version_id == candidate.id
    assert alias().candidate_version_id is None
    assert AuditEvent.objects.filter(action="alias.set", after__decision="manual_promote").exists()


@pytest.mark.parametrize(("action", "status"), [("rollout_rollback", "rolled_back"), ("rollout_abort", "aborted")])
def test_rollback_and_abort_send_everything_to_stable(start, owner, ready_iris, action, status):
    rollout = getattr(services, action)(actor=owner, rollout=start(), reason="not today")
    assert rollout.status == status and alias().version_id == ready_iris.id and alias().candidate_version_id is None


def test_actions_on_a_finished_rollout_are_409(start, owner):
    rollout = services.rollout_abort(actor=owner, rollout=start())
    for action in (services.rollout_pause, services.rollout_resume, services.rollout_promote,
                   services.rollout_rollback, services.rollout_abort):
        with pytest.raises(ModelyardError) as refused:
            action(actor=owner, rollout=rollout)
        assert refused.value.status == 409
    assert rollout.events.count() == 2
