"""promotion_request / approve / reject / cancel / consume: four eyes, ready versions, stale requests."""

import pytest
from django.utils import timezone

from conftest import make_version
from core.errors import Conflict, Forbidden, ModelyardError, NotFound
from registry import services
from registry.models import AuditEvent, ModelAlias, PromotionRequest, RegisteredModel
from registry.tests.factories import UserFactory


def production() -> ModelAlias:
    return ModelAlias.objects.select_related("version").get(name="production")


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_a_request_records_where_the_alias_stood_and_is_audited(open_request, ready_iris, maintainer):
    alias = production()
    assert (open_request.status, open_request.base_version, open_request.base_moved_at) == (
        "open", ready_iris, alias.updated_at)
    assert open_request.requested_by == maintainer and open_request.purpose == "move"
    event = AuditEvent.objects.get(action="promotion.request")
    assert (event.actor, event.target) == (maintainer, "model:iris@production")
    assert event.after == {"id": open_request.pk, "status": "open", "version": 2, "purpose": "move",
                           "reason": "better accuracy", "current": 1}


def test_approval_moves_the_alias_in_the_same_transaction_with_its_audit_events(open_request, reviewer):
    before = AuditEvent.objects.count()
    approved = services.promotion_approve(actor=reviewer, promotion=open_request, reason="numbers are good",
                                          ip="10.0.0.9")
    assert (approved.status, approved.decided_by, approved.decision_reason) == (
        "approved", reviewer, "numbers are good")
    alias = production()
    assert (alias.version.version, alias.previous_version.version, alias.updated_by) == (2, 1, reviewer)
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.actor, e.ip) for e in events] == [("promotion.approve", reviewer, "10.0.0.9"),
                                                            ("alias.set", reviewer, "10.0.0.9")]
    assert events[1].after == {"version": 2, "promotion": open_request.pk}


@pytest.mark.parametrize("staff", [False, True], ids=["maintainer", "staff"])
def test_nobody_decides_their_own_request(protected, candidate, maintainer, staff):
    requester = UserFactory(username="sam-staff", is_staff=True) if staff else maintainer
    promotion = services.promotion_request(actor=requester, model=protected, alias="production",
                                           version=candidate, reason="mine")
    for decide in (services.promotion_approve, services.promotion_reject):
        with pytest.raises(Forbidden) as caught:
            decide(actor=requester, promotion=promotion, reason="looks good to me")
        assert caught.value.code == "own_request"
    assert PromotionRequest.objects.get(pk=promotion.pk).status == "open" and production().version.version == 1


def test_only_maintainers_and_owners_of_the_team_decide(open_request, viewer, teammate, outsider, owner):
    for persona in (viewer, teammate):
        with pytest.raises(Forbidden):
            services.promotion_approve(actor=persona, promotion=open_request)
    with pytest.raises(NotFound):
        services.promotion_approve(actor=outsider, promotion=open_request)
    assert production().version.version == 1
    assert services.promotion_approve(actor=owner, promotion=open_request).status == "approved"


def test_a_version_that_is_not_ready_cannot_be_requested(protected, owner, maintainer, iris_onnx):
    pending = make_version(protected, owner, iris_onnx[0], validate=False)
    with pytest.raises(Conflict) as caught:
        services.promotion_request(actor=maintainer, model=protected, alias="production", version=pending,
                                   reason="x")
    assert (caught.value.code, caught.value.field) == ("version_not_ready", "version")
    assert not PromotionRequest.objects.exists()


def test_a_candidate_archived_after_the_request_is_refused_at_approval(open_request, candidate, owner, reviewer):
    services.version_archive(actor=owner, version=candidate)
    before = actions()
    with pytest.raises(Conflict) as caught:
        services.promotion_approve(actor=reviewer, promotion=open_request)
    assert caught.value.code == "version_not_ready"
    assert PromotionRequest.objects.get(pk=open_request.pk).status == "open"  # nothing half-applied
    assert production().version.version == 1 and actions() == before


def test_a_move_makes_an_open_request_stale_and_it_cannot_be_approved(model, ready_iris, owner, maintainer,
                                                                      reviewer, iris_onnx):
    second, third = make_version(model, owner, iris_onnx[0]), make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="staging", version=ready_iris)
    promotion = services.promotion_request(actor=maintainer, model=model, alias="staging", version=second,
                                           reason="voluntary review")
    services.alias_set(actor=owner, model=model, name="staging", version=third)
    assert PromotionRequest.objects.get(pk=promotion.pk).status == "stale"
    assert AuditEvent.objects.filter(action="promotion.stale", after__id=promotion.pk).exists()
    with pytest.raises(Conflict) as caught:
        services.promotion_approve(actor=reviewer, promotion=promotion)
    assert caught.value.code == "stale"
    assert ModelAlias.objects.get(name="staging").version == third
    services.promotion_request(actor=maintainer, model=model, alias="staging", version=second, reason="again")


def test_a_move_outside_the_services_is_noticed_too(open_request, reviewer, maintainer, candidate, ready_iris):
    # Moved away and back in the shell, bypassing the services: same version, but not the alias reviewed.
    ModelAlias.objects.filter(name="production").update(version=ready_iris, updated_at=timezone.now())
    with pytest.raises(Conflict) as caught:
        services.promotion_approve(actor=reviewer, promotion=open_request)
    assert caught.value.code == "stale" and production().version.version == 1
    fresh = services.promotion_request(actor=maintainer, model=open_request.model, alias="production",
                                       version=candidate, reason="again")
    statuses = dict(PromotionRequest.objects.values_list("pk", "status"))
    assert statuses == {open_request.pk: "stale", fresh.pk: "open"}


def test_one_open_request_per_alias(open_request, protected, maintainer, reviewer, owner, iris_onnx):
    third = make_version(protected, owner, iris_onnx[0])
    with pytest.raises(Conflict) as caught:
        services.promotion_request(actor=reviewer, model=protected, alias="production", version=third, reason="x")
    assert (caught.value.code, caught.value.field) == ("promotion_open", "alias")
    other = services.promotion_request(actor=reviewer, model=protected, alias="staging", version=third, reason="x")
    assert other.status == "open"  # another alias is another queue
    services.promotion_reject(actor=reviewer, promotion=open_request, reason="not yet")
    assert services.promotion_request(actor=maintainer, model=protected, alias="production", version=third,
                                      reason="x").status == "open"


def test_a_request_for_where_the_alias_already_points_is_refused(protected, ready_iris, maintainer):
    with pytest.raises(Conflict) as caught:
        services.promotion_request(actor=maintainer, model=protected, alias="production", version=ready_iris,
                                   reason="x")
    assert caught.value.code == "already_current"


def test_rejection_needs_a_reason_and_moves_nothing(open_request, reviewer):
    with pytest.raises(ModelyardError) as caught:
        services.promotion_reject(actor=reviewer, promotion=open_request, reason="  ")
    assert caught.value.field == "reason"
    rejected = services.promotion_reject(actor=reviewer, promotion=open_request, reason="accuracy is noise")
    assert (rejected.status, rejected.decision_reason) == ("rejected", "accuracy is noise")
    assert production().version.version == 1 and actions()[-1] == "promotion.reject"


def test_the_requester_cancels_their_own_request_only(open_request, maintainer, owner):
    with pytest.raises(Forbidden) as caught:
        services.promotion_cancel(actor=owner, promotion=open_request)
    assert caught.value.code == "not_requester"
    assert services.promotion_cancel(actor=maintainer, promotion=open_request).status == "cancelled"
    assert actions()[-1] == "promotion.cancel"


@pytest.mark.parametrize("first", ["approve", "reject", "cancel"])
def test_a_closed_request_cannot_be_decided_again(open_request, maintainer, reviewer, owner, first):
    if first == "cancel":
        services.promotion_cancel(actor=maintainer, promotion=open_request)
    else:
        getattr(services, f"promotion_{first}")(actor=reviewer, promotion=open_request, reason="decided")
    for decide in (services.promotion_approve, services.promotion_reject):
        with pytest.raises(Conflict) as caught:
            decide(actor=owner, promotion=open_request, reason="again")
        assert caught.value.code == "not_open"
    with pytest.raises(Conflict):
        services.promotion_cancel(actor=maintainer, promotion=open_request)


@pytest.mark.parametrize(("changes", "field"), [
    ({"alias": "Production"}, "alias"), ({"alias": ""}, "alias"), ({"reason": ""}, "reason"),
    ({"reason": "x" * 2001}, "reason"), ({"reason": "nul\x00"}, "reason"), ({"purpose": "yolo"}, "purpose"),
])
def test_bad_input_names_the_field_and_creates_nothing(protected, candidate, maintainer, changes, field):
    args = {"alias": "production", "reason": "ok"} | changes
    with pytest.raises(ModelyardError) as caught:
        services.promotion_request(actor=maintainer, model=protected, version=candidate, **args)
    assert caught.value.field == field
    assert not PromotionRequest.objects.exists() and not AuditEvent.objects.filter(action="promotion.request")


def test_a_version_of_another_model_is_refused(protected, maintainer, owner, iris_onnx):
    other = RegisteredModel.objects.create(team=protected.team, name="other", protected_aliases=[])
    foreign = make_version(other, owner, iris_onnx[0])
    with pytest.raises(ModelyardError) as caught:
        services.promotion_request(actor=maintainer, model=protected, alias="production", version=foreign,
                                   reason="x")
    assert caught.value.field == "version"


def test_a_rollout_approval_moves_nothing_and_is_consumed_once(protected, candidate, maintainer, reviewer):
    promotion = services.promotion_request(actor=maintainer, model=protected, alias="production",
                                           version=candidate, reason="canary it", purpose="rollout")
    services.promotion_approve(actor=reviewer, promotion=promotion)
    assert production().version.version == 1
    from registry.selectors import promotion_approved_for

    assert promotion_approved_for(model=protected, alias="production", version=candidate) == promotion
    used = services.promotion_consume(actor=maintainer, promotion=promotion, by="rollout:7")
    assert used.consumed_by == "rollout:7" and used.consumed_at is not None
    assert promotion_approved_for(model=protected, alias="production", version=candidate) is None
    with pytest.raises(Conflict) as caught:
        services.promotion_consume(actor=maintainer, promotion=promotion, by="rollout:8")
    assert caught.value.code == "consumed" and actions()[-1] == "promotion.consume"


def test_only_an_approved_rollout_request_is_consumed(open_request, reviewer, maintainer, protected, candidate):
    services.promotion_approve(actor=reviewer, promotion=open_request)  # a move request, already applied
    with pytest.raises(Conflict) as caught:
        services.promotion_consume(actor=maintainer, promotion=open_request, by="rollout:1")
    assert caught.value.code == "approval_required"


def test_a_rollout_approval_goes_stale_when_the_alias_moves_before_it_is_used(protected, candidate, maintainer,
                                                                             reviewer, owner, iris_onnx):
    rollout = services.promotion_request(actor=maintainer, model=protected, alias="production",
                                         version=candidate, reason="canary", purpose="rollout")
    services.promotion_approve(actor=reviewer, promotion=rollout)
    third = make_version(protected, owner, iris_onnx[0])
    move = services.promotion_request(actor=maintainer, model=protected, alias="production", version=third,
                                      reason="hotfix")
    services.promotion_approve(actor=reviewer, promotion=move)
    with pytest.raises(Conflict) as caught:
        services.promotion_consume(actor=maintainer, promotion=rollout, by="rollout:1")
    assert caught.value.code == "stale"


def test_deleting_the_alias_makes_its_open_request_stale(model, ready_iris, owner, maintainer, iris_onnx):
    services.alias_set(actor=owner, model=model, name="staging", version=ready_iris)
    promotion = services.promotion_request(actor=maintainer, model=model, alias="staging",
                                           version=make_version(model, owner, iris_onnx[0]), reason="x")
    services.alias_delete(actor=owner, model=model, name="staging")
    assert PromotionRequest.objects.get(pk=promotion.pk).status == "stale"
    assert actions()[-2:] == ["promotion.stale", "alias.delete"]
