from pathlib import Path

from conftest import make_version
from registry import services
from registry.artifacts import artifact_storage
from registry.models import AuditEvent


def test_an_onnx_model_becomes_ready_with_its_signature_inferred(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0], input_example=iris_onnx[1])
    assert version.status == "ready", version.status_message
    assert version.signature["inputs"] == {"dtype": "float32", "features": 4, "columns": None}
    assert version.signature["outputs"] == ["labels", "probabilities"]
    assert AuditEvent.objects.filter(action="version.ready").exists()




def test_skops_recommender_signature(model, owner, recommender_skops):
    version = make_version(model, owner, recommender_skops[0], input_example=recommender_skops[1])
    assert version.status == "ready", version.status_message
    assert version.signature["inputs"]["features"] == 8
    assert version.signature["outputs"] == ["ids", "distances"]


def test_a_declared_signature_that_contradicts_the_model_fails(model, owner, iris_onnx):
    declared = {"inputs": {"dtype": "float32", "features": 7}}
    version = make_version(model, owner, iris_onnx[0], signature=declared)
    assert version.status == "failed"
    assert "declared 7 input features, the model takes 4" in version.status_message


def test_an_input_example_of_the_wrong_shape_fails_with_a_reason(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0], input_example=[[1.0, 2.0]])
    assert version.status == "failed"
    assert "input example" in version.status_message and "4 features" in version.status_message


def test_a_truncated_onnx_file_fails_without_crashing(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0][:200])
    assert version.status == "failed"
    assert "onnxruntime cannot load" in version.status_message


def test_an_artifact_changed_after_upload_fails_the_checksum(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    Path(artifact_storage().path(version.storage_key)).write_bytes(iris_onnx[0] + b"tampered")
    version = services.version_validate(version_id=version.id)
    assert version.status == "failed" and "sha256" in version.status_message


def test_validating_twice_changes_nothing_the_second_time(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0])
    events = AuditEvent.objects.count()
    again = services.version_validate(version_id=version.id)
    assert again.status == "ready" and again.validated_at == version.validated_at
    assert AuditEvent.objects.count() == events


def test_a_redelivered_task_finishes_a_version_left_validating(model, owner, iris_onnx):
    version = make_version(model, owner, iris_onnx[0], validate=False)
    version.status = "validating"
    version.save(update_fields=["status"])
    assert services.version_validate(version_id=version.id).status == "ready"


def test_skops_types_outside_the_server_list_are_refused(model, owner, recommender_skops, settings):
    settings.MODELYARD_SKOPS_TRUSTED_PREFIXES = ("numpy.",)
    version = make_version(model, owner, recommender_skops[0])
    assert version.status == "failed"
    assert "does not trust" in version.status_message and "KDTree" in version.status_message


def test_feature_names_of_a_dataframe_fit_become_the_signature_columns(model, owner):
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LinearRegression

    features = np.random.default_rng(0).normal(size=(20, 2))
    estimator = LinearRegression().fit(features, features[:, 0])
    # as if fitted on a dataframe with these columns
    estimator.feature_names_in_ = np.array(["height", "width"], dtype=object)
    version = make_version(model, owner, sio.dumps(estimator), input_example={"height": [1.0], "width": [2.0]})
    assert version.status == "ready", version.status_message
    assert version.signature["inputs"]["columns"] == ["height", "width"]
