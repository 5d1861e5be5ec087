"""Starting a rollout: every bad input a 4xx naming its field with nothing created; approvals; one per alias."""

import threading

import pytest
from django.db import connection

from conftest import make_version
from core.errors import ModelyardError
from registry.models import AuditEvent, ModelAlias, PromotionPurpose
from registry.services.promotions import promotion_approve, promotion_request
from rollouts import services
from rollouts.models import Rollout


def nothing_created() -> bool:
    alias = ModelAlias.objects.get(name="production")
    return not Rollout.objects.exists() and alias.candidate_version_id is None


BAD = [
    ({"strategy": "big_bang"}, "strategy", 400),
    ({"steps": [50, 25, 100]}, "steps", 400),
    ({"steps": [0, 100]}, "steps", 400),
    ({"steps": [5, 101]}, "steps", 400),
    ({"steps": [5, 50]}, "steps", 400),
    ({"steps": "5,100"}, "steps", 400),
    ({"strategy": "shadow", "steps": [5, 100]}, "steps", 400),
    ({"step_seconds": 0}, "step_seconds", 400),
    ({"guards": {"max_error_rate": "low"}}, "guards.max_error_rate", 400),
    ({"guards": {"min_requests": 2.5}}, "guards.min_requests", 400),
    ({"guards": {"max_error_rate": 2}}, "guards.max_error_rate", 400),
    ({"guards": {"colour": 1}}, "guards.colour", 400),
    ({"guards": [1]}, "guards", 400),
    ({"alias": "staging"}, "alias", 400),
    ({"version": 9}, "version", 400),
    ({"version": 1}, "version", 409),
    ({"allow_breaking": True}, "reason", 400),
]


@pytest.mark.parametrize(("change", "field", "status"), BAD)
def test_bad_input_names_the_field_and_creates_nothing(start, change, field, status):
    with pytest.raises(ModelyardError) as refused:
        start(**change)
    assert (refused.value.field, refused.value.status) == (field, status)
    assert nothing_created()


def test_a_version_that_is_not_ready_is_refused(start, model, owner, iris_onnx):
    pending = make_version(model, owner, iris_onnx[0], validate=False)
    with pytest.raises(ModelyardError) as refused:
        start(version=pending.version)
    assert (refused.value.status, refused.value.code) == (409, "version_not_ready") and nothing_created()


def test_a_second_rollout_on_the_alias_is_refused(start, model, owner, iris_onnx):
    start()
    third = make_version(model, owner, iris_onnx[0])
    with pytest.raises(ModelyardError) as refused:
        start(version=third.version)
    assert (refused.value.status, refused.value.code, refused.value.field) == (409, "rollout_in_progress", "alias")
    assert Rollout.objects.count() == 1


def test_a_breaking_signature_needs_allow_breaking_with_a_reason(start, candidate):
    candidate.signature = {**candidate.signature, "inputs": {**candidate.signature["inputs"], "features": 5}}
    candidate.save(update_fields=["signature"])
    with pytest.raises(ModelyardError) as refused:
        start()
    assert refused.value.code == "breaking_signature" and nothing_created()
    assert start(allow_breaking=True, reason="new feature, callers updated").allow_breaking


def test_start_announces_the_candidate_at_weight_zero_and_audits(start, candidate):
    rollout = start()
    alias = ModelAlias.objects.get(name="production")
    assert (alias.candidate_version_id, alias.candidate_weight) == (candidate.id, 0)
    assert rollout.events.get().kind == "started"
    assert AuditEvent.objects.filter(action="rollout.start", after__rollout=rollout.id).exists()


def test_a_protected_alias_needs_an_approved_rollout_request(start, model, owner, maintainer, candidate):
    model.protected_aliases = ["production"]
    model.save(update_fields=["protected_aliases"])
    with pytest.raises(ModelyardError) as refused:
        start()
    assert refused.value.code == "approval_required" and nothing_created()
    request = promotion_request(actor=maintainer, model=model, alias="production", version=candidate,
                                reason="canary it", purpose=PromotionPurpose.ROLLOUT)
    promotion_approve(actor=owner, promotion=request)
    rollout = start()
    assert rollout.events.get().evidence["approval"]["approved_by"] == owner.username
    rollout.status = "aborted"
    rollout.save()
    with pytest.raises(ModelyardError) as again:  # one approval, one rollout
        start()
    assert again.value.code == "approval_required"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_on_one_alias_one_wins(model, owner, ready_iris, candidate, iris_onnx):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    third = make_version(model, owner, iris_onnx[0])
    results: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(version: int) -> None:
        barrier.wait()
        try:
            services.rollout_create(actor=owner, model=model, alias="production", version=version,
                                    strategy="canary", steps=[10, 100], step_seconds=5)
            results.append("created")
        except ModelyardError as exc:
            results.append(f"{exc.status}")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(v,)) for v in (candidate.version, third.version)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["409", "created"] and Rollout.objects.count() == 1
    assert AuditEvent.objects.filter(action="alias.traffic").count() == 1
