"""No console page makes more queries as the registry grows: each page is counted with a small registry,
then with more models, versions, aliases, promotions, rollouts, jobs, tokens and events; the counts match."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from batch.tests.factories import BatchJobFactory
from conftest import make_version
from registry import services
from registry.models import Role
from registry.services.service_tokens import service_token_create
from registry.tests.factories import RegisteredModelFactory
from rollouts import services as rollouts

# A page may use a few queries of its own (session, user, role, its lists); it must not grow with the data.
MAX_QUERIES = 16


def grow(team: Any, owner: Any, data: bytes, tag: str) -> dict[str, Any]:
    """One more model with two ready versions, an alias under a canary, a promotion, a job and a token."""
    model = RegisteredModelFactory(team=team, name=f"grown-{tag}", created_by=owner)
    first = make_version(model, owner, data, filename="m.onnx", metrics={"accuracy": 0.9, "f1": 0.8})
    second = make_version(model, owner, data, filename="m.onnx", metrics={"accuracy": 0.95})
    services.alias_set(actor=owner, model=model, name="staging", version=first)
    rollout = rollouts.rollout_create(actor=owner, model=model, alias="staging", version=second.version,
                                      strategy="canary", steps=[50, 100], step_seconds=60)
    promotion = services.promotion_request(actor=owner, model=model, alias="production", version=second,
                                           reason="more accurate")
    BatchJobFactory(model=model, version=second, created_by=owner)
    service_token_create(actor=owner, team=team, role=Role.PREDICTOR, name=f"ci-{tag}")
    return {"model": model, "rollout": rollout, "promotion": promotion}


def pages(seed: dict[str, Any]) -> list[str]:
    name, rollout = seed["model"].name, seed["rollout"].pk
    return [reverse("console:home"), reverse("console:model", args=[name]), reverse("console:upload", args=[name]),
            reverse("console:version", args=[name, 2]), reverse("console:compare", args=[name]) + "?a=1&b=2",
            reverse("console:promotions"), reverse("console:promotion", args=[seed["promotion"].pk]),
            reverse("console:rollouts"), reverse("console:rollout", args=[name, rollout]),
            reverse("console:rollout-events", args=[name, rollout]),
            reverse("console:rollout-series", args=[name, rollout]), reverse("console:rollout-new", args=[name]),
            reverse("console:batch"), reverse("console:batch-rows"), reverse("console:audit"),
            reverse("console:teams")]


def counts(client: Client, urls: list[str]) -> dict[str, int]:
    found = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        found[url] = len(queries)
    return found


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_page_queries_do_not_grow_with_the_registry(request, team, owner, iris_onnx, who):
    seed = grow(team, owner, iris_onnx[0], "seed")
    user = owner
    if who == "staff":
        user = owner.__class__.objects.create_user("sam-staff", is_staff=True)
    client = Client()
    client.force_login(user)
    urls = pages(seed)
    small = counts(client, urls)
    for tag in ("a", "b", "c"):
        grow(team, owner, iris_onnx[0], tag)
    large = counts(client, urls)
    assert large == small, {url: (small[url], large[url]) for url in urls if small[url] != large[url]}
    assert max(large.values()) <= MAX_QUERIES, large
