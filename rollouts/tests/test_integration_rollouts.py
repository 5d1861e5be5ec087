"""The four scenarios end to end: gunicorn (two workers), a Celery worker and beat, PostgreSQL and Redis.

Each rollout runs on its own, decided by the beat tick; each leaves an event history with evidence,
and the timeline answers for a moment before, during and after it.
"""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import make_version
from registry.models import ModelAlias
from registry.tokens import RefreshToken
from rollouts import services
from rollouts.models import Rollout
from rollouts.tests.candidates import disagreeing_onnx, one_row_only_onnx
from rollouts.tests.live import TICK_ENV, Traffic, wait_ready, wait_until_finished
from rollouts.timeline import containing, intervals

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env() -> dict[str, str]:
    return TICK_ENV


@pytest.fixture
def live(web_server, worker, beat, teammate, ready_iris) -> dict[str, Any]:
    wait_ready(web_server)
    return {"base": web_server, "token": str(RefreshToken.for_user(teammate).access_token)}


def history(rollout: Rollout) -> list[str]:
    return [f"{e.kind}:{e.rule} {e.evidence.get('candidate', '')}" if e.kind != "advanced" else f"{e.kind}:{e.rule}"
            for e in rollout.events.order_by("at", "id")]


def show(rollout: Rollout) -> None:
    """The event history with its evidence in short (pytest -s prints it: the issue's closing note uses it)."""
    print(f"\nrollout {rollout.id} ({rollout.strategy}) -> {rollout.status}")
    for e in rollout.events.order_by("at", "id"):
        windows = " ".join(f"{side}=v{w['version']}:{w['requests']}req/{w['errors']}err/p95={w['p95_ms']}ms"
                           f"/agree={w['agreement']}" for side in ("candidate", "stable")
                           if (w := e.evidence.get(side)) and isinstance(w, dict))
        print(f"  {e.at:%H:%M:%S.%f} {e.kind:<11} {e.rule:<28} {e.weight_before:>3}->{e.weight_after:<3} {windows}")


def served_at(model: Any, moment: Any) -> list[dict[str, int]]:
    interval = containing(intervals(model, "production"), moment)
    return interval["served"] if interval else []


def first_traffic_at(rollout: Rollout) -> Any:
    return rollout.events.filter(kind="advanced").order_by("at").first().at


def start(model: Any, owner: Any, candidate: Any, **fields: Any) -> Rollout:
    return services.rollout_create(actor=owner, model=model, alias="production", version=candidate.version, **fields)


def test_a_healthy_canary_completes_and_moves_the_alias(live, model, owner, iris_onnx, iris_rows):
    candidate = make_version(model, owner, iris_onnx[0], filename="iris.onnx")
    before = timezone.now()
    with Traffic(live["base"], live["token"], iris_rows) as traffic:
        rollout = start(model, owner, candidate, strategy="canary", steps=[5, 50, 100], step_seconds=2,
                        guards={"min_requests": 10, "max_error_rate": 0.01})
        rollout = wait_until_finished(rollout)
    show(rollout)
    assert rollout.status == "completed", history(rollout)
    assert ModelAlias.objects.get(name="production").version_id == candidate.id
    kinds = [f"{e.kind}:{e.rule}" for e in rollout.events.order_by("at", "id")]
    assert kinds[0] == "started:started" and kinds[-1] == "completed:guards_hold"
    assert [e.weight_after for e in rollout.events.filter(kind="advanced").order_by("at")] == [5, 50, 100]
    assert set(traffic.statuses()) == {200} and set(traffic.versions()) == {1, 2}
    final = rollout.events.order_by("at").last()
    assert final.evidence["candidate"]["requests"] >= 10 and final.evidence["stable"]["version"] == 1
    during = first_traffic_at(rollout) + timedelta(milliseconds=100)
    assert served_at(model, before) == [{"version": 1, "weight": 100}]
    assert served_at(model, during) == [{"version": 1, "weight": 95}, {"version": 2, "weight": 5}]
    assert served_at(model, timezone.now()) == [{"version": 2, "weight": 100}]


def test_a_canary_that_starts_failing_is_rolled_back(live, model, owner, iris_onnx, iris_rows):
    candidate = make_version(model, owner, one_row_only_onnx(iris_onnx[0]), filename="one-row.onnx",
                             input_example=[iris_rows[0]])
    assert candidate.status == "ready", candidate.status_message
    before = timezone.now()
    with Traffic(live["base"], live["token"], [iris_rows[0]]) as healthy:
        rollout = start(model, owner, candidate, strategy="canary", steps=[25, 100], step_seconds=30,
                        guards={"min_requests": 10, "max_error_rate": 0.05})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and 2 not in healthy.versions():
            time.sleep(0.2)
    assert healthy.versions()[2] > 0 and set(healthy.statuses()) == {200}  # the candidate answered, fine
    with Traffic(live["base"], live["token"], iris_rows):  # two-row batches: the candidate starts failing
        rollout = wait_until_finished(rollout)
    show(rollout)
    assert rollout.status == "rolled_back", history(rollout)
    event = rollout.events.order_by("at").last()
    assert event.kind == "rolled_back" and event.rule in ("max_error_rate", "error_rate_vs_stable")
    assert event.evidence["candidate"]["errors"] > 0 and event.evidence["stable"]["errors"] == 0
    alias = ModelAlias.objects.get(name="production")
    assert (alias.version.version, alias.candidate_version_id) == (1, None)
    during = first_traffic_at(rollout) + timedelta(milliseconds=100)
    assert served_at(model, before) == [{"version": 1, "weight": 100}]
    assert served_at(model, during) == [{"version": 1, "weight": 75}, {"version": 2, "weight": 25}]
    assert served_at(model, timezone.now()) == [{"version": 1, "weight": 100}]


def test_a_disagreeing_shadow_is_aborted_and_never_answers(live, model, owner, iris_rows):
    candidate = make_version(model, owner, disagreeing_onnx(), filename="other.onnx")
    before = timezone.now()
    with Traffic(live["base"], live["token"], iris_rows) as traffic:
        rollout = start(model, owner, candidate, strategy="shadow", step_seconds=30,
                        guards={"min_requests": 10, "min_agreement": 0.9})
        rollout = wait_until_finished(rollout)
    show(rollout)
    assert rollout.status == "aborted", history(rollout)
    event = rollout.events.order_by("at").last()
    assert event.rule == "min_agreement" and event.evidence["candidate"]["agreement"] < 0.9
    assert set(traffic.statuses()) == {200}, traffic.statuses()
    assert set(traffic.versions()) == {1}
    during = first_traffic_at(rollout) + timedelta(milliseconds=100)
    assert served_at(model, before) == served_at(model, during) == [{"version": 1, "weight": 100}]
    assert containing(intervals(model, "production"), during)["shadow"] == candidate.version
    assert served_at(model, timezone.now()) == [{"version": 1, "weight": 100}]


def test_a_blue_green_switch_fails_no_request(live, model, owner, iris_onnx, iris_rows):
    candidate = make_version(model, owner, iris_onnx[0], filename="iris.onnx")
    time.sleep(2)  # a baseline for stable before the switch
    before = timezone.now()
    with Traffic(live["base"], live["token"], iris_rows) as traffic:
        time.sleep(2)
        rollout = start(model, owner, candidate, strategy="blue_green", step_seconds=3, guards={"min_requests": 10})
        rollout = wait_until_finished(rollout)
        time.sleep(1)
    show(rollout)
    assert rollout.status == "completed", history(rollout)
    assert set(traffic.statuses()) == {200}, traffic.statuses()
    assert traffic.answers[-1][2] == 2 and traffic.versions()[1] > 0
    assert [e.weight_after for e in rollout.events.filter(kind="advanced")] == [100]
    during = first_traffic_at(rollout) + timedelta(milliseconds=100)
    assert served_at(model, before) == [{"version": 1, "weight": 100}]
    assert served_at(model, during) == [{"version": 2, "weight": 100}]
    assert served_at(model, timezone.now()) == [{"version": 2, "weight": 100}]
