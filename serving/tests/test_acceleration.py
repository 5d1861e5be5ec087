import numpy as np
import pytest

from conftest import make_version

PREDICT = "/api/v1/models/iris/versions/1/predict"


def test_a_skops_classifier_is_served_through_onnx_when_outputs_match(model, owner, iris_skops, iris_onnx):
    version = make_version(model, owner, iris_skops, input_example=iris_onnx[1])
    assert version.status == "ready", version.status_message
    assert version.format == "skops" and version.serving_format == "onnx"
    assert version.serving_storage_key != version.storage_key and len(version.serving_sha256) == 64
    assert "served by onnxruntime" in version.serving_note and "outputs match on 202 rows" in version.serving_note


def test_the_accelerated_version_answers_like_scikit_learn(as_user, teammate, model, owner, iris_skops,
                                                          iris_estimator, iris_rows):
    make_version(model, owner, iris_skops)
    body = as_user(teammate).post(PREDICT, {"inputs": iris_rows}, format="json").json()
    expected = iris_estimator.predict_proba(np.array(iris_rows))
    assert body["outputs"]["labels"] == iris_estimator.predict(np.array(iris_rows)).tolist()
    assert np.allclose(body["outputs"]["probabilities"], expected, atol=1e-4)


def test_the_recommender_converts_and_returns_the_same_neighbours(as_user, teammate, model, owner,
                                                                   recommender_skops):
    version = make_version(model, owner, recommender_skops[0], input_example=recommender_skops[1])
    assert version.serving_format == "onnx", version.serving_note
    body = as_user(teammate).post(PREDICT, {"inputs": recommender_skops[1]}, format="json").json()
    assert body["outputs"]["ids"][0][0] == 3 and len(body["outputs"]["distances"][0]) == 5


def test_a_regressor_answers_a_vector_of_predictions(as_user, teammate, model, owner):
    import skops.io as sio
    from sklearn.linear_model import Ridge

    features = np.random.default_rng(3).normal(size=(50, 3))
    estimator = Ridge().fit(features, features @ [1.0, 2.0, 3.0])
    version = make_version(model, owner, sio.dumps(estimator))
    assert version.serving_format == "onnx", version.serving_note
    body = as_user(teammate).post(PREDICT, {"inputs": [[1, 1, 1]]}, format="json").json()
    assert body["outputs"]["predictions"] == pytest.approx(estimator.predict([[1, 1, 1]]).tolist(), abs=1e-3)


def test_an_estimator_skl2onnx_cannot_convert_stays_on_scikit_learn(as_user, teammate, model, owner):
    import skops.io as sio
    from sklearn.kernel_ridge import KernelRidge

    features = np.random.default_rng(0).normal(size=(30, 2))
    estimator = KernelRidge().fit(features, features[:, 0])
    version = make_version(model, owner, sio.dumps(estimator))
    assert version.status == "ready", version.status_message
    assert version.serving_format == "skops"
    assert version.serving_note.startswith("served by scikit-learn: skl2onnx cannot convert it")
    response = as_user(teammate).post(PREDICT, {"inputs": [[0.1, 0.2]]}, format="json")
    expected = estimator.predict([[0.1, 0.2]]).tolist()
    assert response.status_code == 200 and response.json()["outputs"]["predictions"] == pytest.approx(expected)


def test_acceleration_can_be_switched_off(model, owner, iris_skops, settings):
    settings.MODELYARD_ONNX_ACCELERATION = False
    version = make_version(model, owner, iris_skops)
    assert version.serving_format == "skops" and version.serving_storage_key == version.storage_key
    assert version.serving_note == "served by scikit-learn: ONNX acceleration is off"


def test_a_pickle_is_served_through_onnx_so_the_web_process_never_unpickles(
        as_user, teammate, model, owner, iris_joblib, iris_rows, settings):
    from django.contrib.auth.models import Permission

    settings.MODELYARD_ALLOW_PICKLE = True
    owner.user_permissions.add(Permission.objects.get(codename="publish_pickle"))
    owner = type(owner).objects.get(pk=owner.pk)
    version = make_version(model, owner, iris_joblib)
    assert version.serving_format == "onnx"
    settings.MODELYARD_ALLOW_PICKLE = False  # the web process could not unpickle even if it tried
    response = as_user(teammate).post(PREDICT, {"inputs": iris_rows}, format="json")
    assert response.json()["outputs"]["labels"] == [0, 2]


def test_inputs_are_checked_in_the_dtype_the_converted_model_sees(as_user, teammate, model, owner, iris_skops):
    version = make_version(model, owner, iris_skops)
    assert version.serving_format == "onnx" and version.signature["inputs"]["dtype"] == "float32"
    response = as_user(teammate).post(PREDICT, {"inputs": [[1e39, 3.5, 1.4, 0.2]]}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_finite"
