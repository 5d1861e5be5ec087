import numpy as np
import pytest

from serving.runtimes import RuntimeLoadError, load_runtime


def write(tmp_path, data: bytes):
    path = tmp_path / "artifact"
    path.write_bytes(data)
    return path


def test_onnx_runtime_answers_labels_and_probabilities(tmp_path, iris_onnx):
    runtime = load_runtime("onnx", write(tmp_path, iris_onnx[0]))
    outputs = runtime.predict(np.array([[5.1, 3.5, 1.4, 0.2]]))
    assert outputs["labels"].tolist() == [0]
    assert outputs["probabilities"].shape == (1, 3)


def test_skops_recommender_returns_neighbour_ids(tmp_path, recommender_skops):
    runtime = load_runtime("skops", write(tmp_path, recommender_skops[0]))
    outputs = runtime.predict(np.array(recommender_skops[1]))
    assert outputs["ids"].shape == (1, 5)
    assert outputs["distances"][0][0] == pytest.approx(0, abs=1e-3)  # the item itself is nearest


def test_pickle_runtime_refuses_to_load_when_disabled(tmp_path, iris_pickle, settings):
    settings.MODELYARD_ALLOW_PICKLE = False
    with pytest.raises(RuntimeLoadError, match="disabled"):
        load_runtime("pickle", write(tmp_path, iris_pickle))


def test_pickle_runtime_loads_when_enabled(tmp_path, iris_pickle, settings):
    settings.MODELYARD_ALLOW_PICKLE = True
    runtime = load_runtime("pickle", write(tmp_path, iris_pickle))
    assert runtime.predict(np.array([[5.1, 3.5, 1.4, 0.2]]))["labels"].tolist() == [0]


def test_an_unknown_format_has_no_runtime(tmp_path):
    with pytest.raises(RuntimeLoadError):
        load_runtime("tensorflow", write(tmp_path, b"x"))
