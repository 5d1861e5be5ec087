import time

import pytest

from serving import warmup
from serving.runtime_cache import runtimes


def test_healthz_answers_without_auth(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_waits_for_aliased_models_to_load(client, ready_iris):
    warmup.reset()
    runtimes.clear()
    first = client.get("/readyz")
    assert first.status_code == 503 and first.json()["checks"]["models"].startswith("warming")
    deadline = time.monotonic() + 20
    while (response := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "models": "ok"}
    assert (ready_iris.id, ready_iris.serving_sha256) in runtimes.loaded()


def test_schema_and_docs_are_public(client, db):
    assert client.get("/api/schema").status_code == 200
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
