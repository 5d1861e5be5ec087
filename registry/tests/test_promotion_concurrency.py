"""Races on promotion requests, with real threads and transactions: exactly one wins, the others get 409,
nothing is half-applied. Each decision locks the model row, then the request row (select_for_update on
PostgreSQL; SQLite's IMMEDIATE transactions serialise the same way). ``slow`` widens the window between a
check and its write, so a missing lock shows up as two winners rather than as luck.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from conftest import make_version
from core.errors import ModelyardError
from registry import services
from registry.models import AuditEvent, ModelAlias, PromotionRequest
from registry.services import promotions

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls: Callable[[], Any]) -> list[str]:
    """Start every call at once, each in its own thread and connection; each outcome: 'ok' or the error code."""
    barrier, outcomes = threading.Barrier(len(calls)), [""] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "ok"
        except ModelyardError as exc:
            outcomes[index] = exc.code
        except Exception as exc:  # surfaced by the caller's assertion
            outcomes[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check of a request's alias and of open requests takes a while before its caller writes."""
    real_current, real_open = promotions.promotion_is_current, promotions._close_or_refuse_open

    def slow_current(*args: Any) -> bool:
        result = real_current(*args)
        time.sleep(0.3)
        return result

    def slow_open(*args: Any) -> None:
        real_open(*args)
        time.sleep(0.3)

    monkeypatch.setattr(promotions, "promotion_is_current", slow_current)
    monkeypatch.setattr(promotions, "_close_or_refuse_open", slow_open)


def production() -> int:
    return ModelAlias.objects.select_related("version").get(name="production").version.version


def count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_two_approvals_of_one_request(open_request, owner, reviewer, slow):
    outcomes = race(lambda: services.promotion_approve(actor=owner, promotion=open_request),
                    lambda: services.promotion_approve(actor=reviewer, promotion=open_request))
    assert sorted(outcomes) == ["not_open", "ok"]
    assert PromotionRequest.objects.get().status == "approved" and production() == 2
    assert count("promotion.approve") == 1
    assert AuditEvent.objects.filter(action="alias.set", after__promotion=open_request.pk).count() == 1


def test_two_requests_on_one_alias(protected, candidate, maintainer, reviewer, owner, iris_onnx, slow):
    third = make_version(protected, owner, iris_onnx[0])
    outcomes = race(
        lambda: services.promotion_request(actor=maintainer, model=protected, alias="production",
                                           version=candidate, reason="v2"),
        lambda: services.promotion_request(actor=reviewer, model=protected, alias="production", version=third,
                                           reason="v3"))
    assert sorted(outcomes) == ["ok", "promotion_open"]
    assert PromotionRequest.objects.filter(status="open").count() == 1 == PromotionRequest.objects.count()
    assert count("promotion.request") == 1


def test_an_approval_racing_a_direct_move_of_the_protected_alias(open_request, reviewer, owner, protected,
                                                                 iris_onnx, slow):
    third = make_version(protected, owner, iris_onnx[0])
    outcomes = race(lambda: services.promotion_approve(actor=reviewer, promotion=open_request),
                    lambda: services.alias_set(actor=owner, model=protected, name="production", version=third))
    assert outcomes == ["ok", "approval_required"]
    assert production() == 2 and Counter(AuditEvent.objects.values_list("action", flat=True))["alias.set"] == 2


def test_an_approval_that_queues_behind_an_alias_move_finds_its_request_stale(model, ready_iris, owner,
                                                                              maintainer, reviewer, iris_onnx):
    """The move commits first (it holds the model row while the approval waits for it): the approval is 409."""
    second, third = make_version(model, owner, iris_onnx[0]), make_version(model, owner, iris_onnx[0])
    services.alias_set(actor=owner, model=model, name="staging", version=ready_iris)
    promotion = services.promotion_request(actor=maintainer, model=model, alias="staging", version=second,
                                           reason="voluntary review")
    moved = threading.Event()

    def move_and_hold() -> None:
        with transaction.atomic():
            services.alias_set(actor=owner, model=model, name="staging", version=third)
            moved.set()
            time.sleep(0.5)  # the approval below is waiting for the model row meanwhile

    def approve_after_the_move_started() -> None:
        assert moved.wait(timeout=10)
        services.promotion_approve(actor=reviewer, promotion=promotion)

    outcomes = race(move_and_hold, approve_after_the_move_started)
    assert outcomes == ["ok", "stale"]
    assert ModelAlias.objects.get(name="staging").version == third
    assert PromotionRequest.objects.get().status == "stale" and count("promotion.approve") == 0


def test_an_approval_racing_an_archive_of_its_version(open_request, candidate, owner, reviewer, slow):
    outcomes = race(lambda: services.promotion_approve(actor=reviewer, promotion=open_request),
                    lambda: services.version_archive(actor=owner, version=candidate))
    assert sorted(outcomes) in (["ok", "version_aliased"], ["ok", "version_not_ready"])
    status = PromotionRequest.objects.get().status
    if outcomes[0] == "ok":  # approved first: the version serves production and cannot be archived
        assert (status, production(), count("version.archive")) == ("approved", 2, 0)
    else:  # archived first: the approval found it not ready and left the request open
        assert (status, production(), count("promotion.approve")) == ("open", 1, 0)


def test_an_approval_racing_its_cancellation(open_request, maintainer, reviewer, slow):
    outcomes = race(lambda: services.promotion_approve(actor=reviewer, promotion=open_request),
                    lambda: services.promotion_cancel(actor=maintainer, promotion=open_request))
    assert sorted(outcomes) == ["not_open", "ok"]
    status = PromotionRequest.objects.get().status
    assert (status, production()) in (("approved", 2), ("cancelled", 1))
