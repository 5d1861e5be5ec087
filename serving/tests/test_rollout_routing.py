"""An alias under rollout: sticky weights, the answering version named, never an unloaded candidate, shadows."""

from typing import Any

import numpy as np
import pytest

from conftest import make_version
from registry.models import TrafficMode
from registry.services.traffic import traffic_split_set
from serving import shadow
from serving.routing import bucket, route_for
from serving.runtime_cache import runtimes

ALIAS = "/api/v1/models/iris/aliases/production/predict"


@pytest.fixture
def candidate(model, owner, ready_iris, iris_onnx):
    return make_version(model, owner, iris_onnx[0], filename="iris.onnx", input_example=iris_onnx[1])


def split(model: Any, owner: Any, candidate: Any, weight: int, mode: str = TrafficMode.SPLIT) -> None:
    traffic_split_set(actor=owner, model=model, alias="production", candidate=candidate, weight=weight, mode=mode)
    runtimes.get(route_for("iris").versions[candidate.version].ref)  # as the preload would


def answer(client: Any, rows: list, key: str | None = None) -> Any:
    extra = {"HTTP_MODELYARD_ROUTING_KEY": key} if key else {}
    return client.post(ALIAS, {"inputs": rows}, format="json", **extra)


def test_the_split_sends_the_weight_share_of_keys_to_the_candidate(as_user, teammate, model, owner, candidate,
                                                                   iris_rows):
    split(model, owner, candidate, 30)
    client = as_user(teammate)
    versions = [answer(client, iris_rows, key=f"caller-{i}").json()["version"] for i in range(200)]
    assert 0.15 < versions.count(2) / 200 < 0.45
    expected = [2 if bucket("iris", "production", f"caller-{i}") < 30 else 1 for i in range(200)]
    assert versions == expected


def test_one_caller_stays_on_one_version_and_the_header_names_it(as_user, teammate, model, owner, candidate,
                                                                 iris_rows):
    split(model, owner, candidate, 50)
    client = as_user(teammate)
    answers = [answer(client, iris_rows) for _ in range(10)]  # no key: the token's subject
    assert len({a.json()["version"] for a in answers}) == 1
    assert all(a["Modelyard-Version"] == str(a.json()["version"]) for a in answers)


def test_raising_the_weight_keeps_candidate_callers_on_the_candidate(as_user, teammate, model, owner, candidate,
                                                                     iris_rows):
    client = as_user(teammate)
    split(model, owner, candidate, 10)
    first = {k for k in map(str, range(100)) if answer(client, iris_rows, k).json()["version"] == 2}
    split(model, owner, candidate, 60)
    later = {k for k in map(str, range(100)) if answer(client, iris_rows, k).json()["version"] == 2}
    assert first and first < later


def test_a_candidate_this_process_has_not_loaded_gets_no_traffic(as_user, teammate, model, owner, candidate,
                                                                 iris_rows, monkeypatch):
    monkeypatch.setattr(runtimes, "preload", lambda ref: None)  # keep it unloaded
    traffic_split_set(actor=owner, model=model, alias="production", candidate=candidate, weight=100)
    client = as_user(teammate)
    assert {answer(client, iris_rows, str(k)).json()["version"] for k in range(20)} == {1}


def test_weight_100_sends_everyone_to_the_candidate(as_user, teammate, model, owner, candidate, iris_rows):
    split(model, owner, candidate, 100)
    client = as_user(teammate)
    assert {answer(client, iris_rows, str(k)).json()["version"] for k in range(20)} == {2}


def test_a_shadow_copy_never_answers_and_is_compared(as_user, teammate, model, owner, candidate, iris_rows,
                                                     monkeypatch):
    copies = []
    monkeypatch.setattr(shadow, "submit", lambda route, served, batch, outputs: copies.append((served, outputs)))
    split(model, owner, candidate, 0, TrafficMode.SHADOW)
    response = answer(as_user(teammate), iris_rows)
    assert response.json()["version"] == 1 and response["Modelyard-Version"] == "1"
    assert len(copies) == 1 and copies[0][0].number == 2


def test_shadow_comparison_counts_rows_that_agree():
    expected = {"labels": np.array([0, 1, 2]), "probabilities": np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])}
    same = {"labels": np.array([0, 1, 2]), "probabilities": expected["probabilities"] + 1e-6}
    differ = {"labels": np.array([0, 2, 2]), "probabilities": np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9]])}
    assert shadow.agreeing_rows(expected, same) == 3
    assert shadow.agreeing_rows(expected, differ) == 1
    assert shadow.agreeing_rows(expected, {"predictions": np.array([1, 2, 3])}) == 0


def test_a_full_shadow_queue_drops_and_counts(monkeypatch, settings, model, owner, candidate):
    import queue

    from core import windows

    full: queue.Queue = queue.Queue(maxsize=1)
    full.put_nowait(None)
    monkeypatch.setattr(shadow, "_jobs", lambda: full)
    windows.accumulator.drain()
    served = route_for("iris").versions[2]
    shadow.submit(route_for("iris"), served, np.zeros((1, 4)), {})
    counts = windows.accumulator.drain()
    assert sum(c.get("d", 0) for (vid, _), c in counts.items() if vid == served.id) == 1
