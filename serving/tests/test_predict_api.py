import pytest

from conftest import make_version

# The whole predict suite runs with HS256, RS256 and ES256 tokens (serving/tests/conftest.py).
pytestmark = pytest.mark.usefixtures("jwt_algorithm")

ALIAS = "/api/v1/models/iris/aliases/production/predict"
VERSION = "/api/v1/models/iris/versions/1/predict"


def test_a_predictor_gets_labels_and_probabilities_through_an_alias(as_user, teammate, ready_iris, iris_rows):
    response = as_user(teammate).post(ALIAS, {"inputs": iris_rows}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"] == "iris" and body["version"] == 1
    assert body["outputs"]["labels"] == [0, 2]
    assert len(body["outputs"]["probabilities"][0]) == 3


def test_predict_by_version_number(as_user, teammate, ready_iris, iris_rows):
    response = as_user(teammate).post(VERSION, {"inputs": iris_rows}, format="json")
    assert response.status_code == 200 and response.json()["outputs"]["labels"] == [0, 2]


def test_a_viewer_cannot_predict(as_user, viewer, ready_iris, iris_rows):
    assert as_user(viewer).post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 403


def test_an_outsider_gets_404(as_user, outsider, ready_iris, iris_rows):
    assert as_user(outsider).post(ALIAS, {"inputs": iris_rows}, format="json").status_code == 404


def test_no_token_is_401(client, ready_iris, iris_rows):
    response = client.post(ALIAS, {"inputs": iris_rows}, content_type="application/json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("payload,code", [
    ({"inputs": [[1.0, 2.0]]}, "wrong_feature_count"),
    ({"inputs": [["a", "b", "c", "d"]]}, "wrong_type"),
    ({"inputs": []}, "empty_batch"),
    ({"rows": [[1, 2, 3, 4]]}, "invalid_input"),
    ([1, 2], "invalid_input"),
])
def test_bad_inputs_are_400_naming_the_problem(as_user, teammate, ready_iris, payload, code):
    response = as_user(teammate).post(ALIAS, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == {"code": code, "message": response.json()["error"]["message"],
                                         "field": "inputs"}


def test_too_many_rows_is_400(as_user, teammate, ready_iris, settings):
    settings.MODELYARD_PREDICT_MAX_ROWS = 3
    response = as_user(teammate).post(ALIAS, {"inputs": [[1, 2, 3, 4]] * 4}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_rows"


@pytest.mark.parametrize("body", [b"{not json", b'{"inputs": [[NaN, 1, 2, 3]]}', b'{"inputs": [[Infinity, 1, 2, 3]]}'])
def test_malformed_json_and_nan_literals_are_400(as_user, teammate, ready_iris, body):
    response = as_user(teammate).post(ALIAS, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"


def test_a_version_that_is_not_ready_is_409(as_user, teammate, model, owner, iris_onnx, iris_rows):
    make_version(model, owner, iris_onnx[0], validate=False)
    response = as_user(teammate).post(VERSION, {"inputs": iris_rows}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_not_ready"


@pytest.mark.parametrize("url", ["/api/v1/models/nope/aliases/production/predict",
                                 "/api/v1/models/iris/aliases/staging/predict",
                                 "/api/v1/models/iris/versions/9/predict"])
def test_unknown_model_alias_or_version_is_404(as_user, teammate, ready_iris, iris_rows, url):
    response = as_user(teammate).post(url, {"inputs": iris_rows}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_named_columns_reach_a_model_fitted_on_them(as_user, teammate, model, owner):
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(1)
    features = rng.normal(size=(30, 2))
    estimator = LinearRegression().fit(features, features @ [2.0, 3.0])
    estimator.feature_names_in_ = np.array(["x1", "x2"], dtype=object)
    make_version(model, owner, sio.dumps(estimator))
    response = as_user(teammate).post(VERSION, {"inputs": {"x2": [1.0], "x1": [1.0]}}, format="json")
    assert response.status_code == 200
    assert response.json()["outputs"]["predictions"][0] == pytest.approx(5.0)


def test_the_recommender_returns_the_ids_of_nearest_items(as_user, teammate, model, owner, recommender_skops):
    make_version(model, owner, recommender_skops[0])
    response = as_user(teammate).post(VERSION, {"inputs": recommender_skops[1]}, format="json")
    assert response.status_code == 200
    assert response.json()["outputs"]["ids"][0][0] == 3  # the query is item 3's own vector


def test_tokens_are_signed_and_checked_with_the_configured_algorithm(as_user, teammate, ready_iris, jwt_algorithm,
                                                                     settings):
    import jwt as pyjwt

    from registry.tokens import RefreshToken

    token = str(RefreshToken.for_user(teammate).access_token)
    assert pyjwt.get_unverified_header(token)["alg"] == jwt_algorithm
    claims = pyjwt.decode(token, options={"verify_signature": False})
    # The same claims signed with the shared secret: refused unless HS256 is what the deployment uses.
    confused = pyjwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")
    client = as_user(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {confused}")
    status = client.post("/api/v1/models/iris/aliases/production/predict", {"inputs": [[5.1, 3.5, 1.4, 0.2]]},
                         format="json").status_code
    assert status == (200 if jwt_algorithm == "HS256" else 401)
