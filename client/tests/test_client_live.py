"""modelyard.Client against gunicorn and a real worker: push objects, wait, alias, predict by URI, tokens, errors."""

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest
from registry.models import ModelVersion
from registry.tokens import RefreshToken

from client.tests.conftest import FEATURES, PASSWORD
from modelyard import (
    ApprovalRequired,
    AuthenticationError,
    Client,
    NotFound,
    PermissionDenied,
    UsageError,
    VersionFailed,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def iris_frame() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    features, _ = load_iris(return_X_y=True)
    return pd.DataFrame(features, columns=FEATURES, index=[f"row{i}" for i in range(len(features))])


def test_an_estimator_pushed_with_a_sample_serves_its_own_predictions_by_every_uri(owner_client, team,
                                                                                   iris_frame):
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    features, labels = load_iris(return_X_y=True)
    estimator = RandomForestClassifier(n_estimators=20, random_state=0).fit(iris_frame, labels)
    sent: list[tuple[int, int]] = []
    version = owner_client.push("iris-forest", estimator, sample=iris_frame.iloc[:5], team="acme",
                                metrics={"accuracy": 0.97}, progress=lambda done, total: sent.append((done, total)))
    assert (version.number, version["format"], version["status"]) == (1, "skops", "pending")
    assert sent and sent[-1][0] == sent[-1][1] == version["size_bytes"]  # the progress reached the whole file

    version.wait_until_ready()
    assert version["status"] == "ready"
    assert version["signature"]["inputs"]["columns"] == FEATURES
    assert version["input_example"] == iris_frame.iloc[:5].to_numpy().tolist()
    owner_client.set_alias("iris-forest", "staging", 1)

    held_out = iris_frame.iloc[::7]
    expected = estimator.predict(held_out)
    for uri in ("iris-forest@staging", "iris-forest/1", "models:/iris-forest@staging", "models:/iris-forest/1"):
        prediction = owner_client.predict(uri, held_out)
        assert (prediction.model, prediction.version) == ("iris-forest", 1)
        assert isinstance(prediction["labels"], np.ndarray)
        assert prediction["labels"].tolist() == expected.tolist()
    np.testing.assert_allclose(prediction["probabilities"], estimator.predict_proba(held_out), atol=1e-6)
    frame = owner_client.predict("iris-forest@staging", held_out[list(reversed(FEATURES))]).to_pandas()
    assert list(frame.index) == list(held_out.index) and frame["labels"].tolist() == expected.tolist()
    assert list(frame.columns) == ["labels", "probabilities_0", "probabilities_1", "probabilities_2"]
    rows = owner_client.predict("iris-forest/1", features[:3].tolist())  # plain rows work too
    assert rows["labels"].tolist() == estimator.predict(iris_frame.iloc[:3]).tolist()


def test_a_batch_job_waits_with_a_progress_bar_and_downloads(owner_client, team, iris_estimator, tmp_path):
    import io

    import pyarrow.parquet as pq
    from batch.tests.conftest import csv_bytes, iris_like
    from rich.console import Console

    owner_client.push("iris", iris_estimator, team="acme", wait=True)
    owner_client.set_alias("iris", "staging", 1)
    values = iris_like(300, seed=4)
    (tmp_path / "in.csv").write_bytes(csv_bytes(values))
    job = owner_client.batch("iris@staging", tmp_path / "in.csv", id_column="id", output_format="parquet")
    # The worker may have taken the job before the answer to the submit was written: queued or running.
    assert job.status in ("queued", "running") and job.data["rows_total"] == 300
    screen = io.StringIO()
    job.wait(progress=Console(file=screen, force_terminal=True, width=120))
    assert job.status == "succeeded" and "300/300" in screen.getvalue()
    output = pq.read_table(job.download(tmp_path / "out.parquet"))
    assert output.column("labels").to_pylist() == iris_estimator.predict(values).tolist()
    assert output.column("id").to_pylist()[:2] == ["r1", "r2"]


def test_an_onnx_model_proto_is_pushed_as_onnx(owner_client, team, iris_onnx):
    import onnx

    proto = onnx.load_model_from_string(iris_onnx[0])
    version = owner_client.push("iris-onnx", proto, sample=np.array(iris_onnx[1], dtype=np.float32), team="acme",
                                wait=True)
    assert (version["format"], version["status"]) == ("onnx", "ready")
    assert version["signature"]["inputs"]["dtype"] == "float32" and version["signature"]["inputs"]["features"] == 4
    assert owner_client.predict("iris-onnx/1", iris_onnx[1])["labels"].tolist() == [0, 1]


def test_wait_until_ready_raises_the_validation_message(owner_client, team, iris_estimator):
    wrong = [[1.0, 2.0]]  # two features for a model that takes four: the worker refuses the example
    version = owner_client.push("iris", iris_estimator, sample=wrong, team="acme")
    with pytest.raises(VersionFailed) as failed:
        version.wait_until_ready()
    assert failed.value.version == 1 and "signature does not match" in failed.value.reason
    assert "4 input features" in str(failed.value) or "4" in failed.value.reason
    assert ModelVersion.objects.get().status_message == failed.value.reason


def test_expired_access_tokens_are_refreshed_transparently(server, owner, team, iris_estimator, owner_client):
    owner_client.push("iris", iris_estimator, team="acme", wait=True)
    owner.refresh_from_db()  # the server upgraded the password hash at sign-in: tokens follow the new one
    refresh = RefreshToken.for_user(owner)
    expired = refresh.access_token
    expired.set_exp(lifetime=-dt.timedelta(minutes=1))
    seen: list[tuple] = []
    # Expired: refreshed before it is sent. Not even a JWT: refused with 401, refreshed, sent again.
    for stale in (str(expired), "not-a-jwt"):
        with Client(server, token=stale, refresh_token=str(refresh), on_tokens=lambda *pair: seen.append(pair)) as c:
            assert c.version("iris", 1)["status"] == "ready"
            assert c.session.access != stale
            refresh = c.session.refresh  # rotated: the old one is spent
    assert len(seen) == 2 and all(access and new_refresh for access, new_refresh in seen)


def test_refusals_are_typed_errors_carrying_the_envelope(server, owner, team, owner_client, iris_estimator):
    with pytest.raises(AuthenticationError) as wrong:
        Client(server, username=owner.username, password="not " + PASSWORD)
    assert wrong.value.status == 401 and wrong.value.envelope["error"]["message"]
    with pytest.raises(AuthenticationError):
        Client(server, token="forged").models()
    with pytest.raises(NotFound) as missing:
        owner_client.version("nope", 1)
    assert missing.value.envelope == {"error": {"code": "not_found", "message": missing.value.message,
                                                "field": None}}
    version = owner_client.push("iris", iris_estimator, team="acme", wait=True)
    with pytest.raises(ApprovalRequired) as protected:  # production is protected on models made by the API
        owner_client.set_alias("iris", "production", version.number)
    assert protected.value.status == 409 and protected.value.code == "approval_required"
    with pytest.raises(UsageError):
        owner_client.predict("iris", [[1, 2, 3, 4]])  # neither alias nor version


def test_a_teams_service_token_in_modelyard_token(server, team, monkeypatch, owner_client, iris_estimator):
    owner_client.push("iris", iris_estimator, team="acme", wait=True)
    owner_client.set_alias("iris", "staging", 1)
    created = owner_client.create_service_token("acme", "ci-deploy", "maintainer")
    monkeypatch.setenv("MODELYARD_TOKEN", created["token"])
    monkeypatch.setenv("MODELYARD_URL", server)
    with Client() as ci:  # from the environment: no sign-in, no refresh
        pushed = ci.push("iris", iris_estimator, sample=[[5.1, 3.5, 1.4, 0.2]], wait=True)
        assert pushed.number == 2 and pushed["created_by"] == created["account"]
        assert ci.predict("iris@staging", [[5.1, 3.5, 1.4, 0.2]])["labels"].tolist() == [0]
        with pytest.raises(PermissionDenied):  # a token never decides promotions (four eyes: two people)
            ci.approve(ci.promote("iris", "production", 2, "from CI")["id"])
    owner_client.revoke_service_token("acme", created["id"])
    time.sleep(1.2)  # every web process drops the cached caller within a second
    with pytest.raises(AuthenticationError), Client() as ci:
        ci.versions("iris")
