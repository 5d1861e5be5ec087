def test_healthz_answers_without_auth(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_database_cache_and_broker(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_schema_and_docs_are_public(client, db):
    assert client.get("/api/schema").status_code == 200
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
