from pathlib import Path

import numpy as np
import pytest

from modelkit import LoadPolicy
from modelkit.runtimes import RuntimeLoadError, load_runtime

SAFE = LoadPolicy()


def write(tmp_path, data: bytes):
    path = tmp_path / "artifact"
    path.write_bytes(data)
    return path


def test_onnx_runtime_answers_labels_and_probabilities(tmp_path, iris_onnx):
    runtime = load_runtime("onnx", write(tmp_path, iris_onnx[0]), SAFE)
    outputs = runtime.predict(np.array([[5.1, 3.5, 1.4, 0.2]]))
    assert outputs["labels"].tolist() == [0]
    assert outputs["probabilities"].shape == (1, 3)


def test_skops_recommender_returns_neighbour_ids(tmp_path, recommender_skops):
    runtime = load_runtime("skops", write(tmp_path, recommender_skops[0]), SAFE)
    outputs = runtime.predict(np.array(recommender_skops[1]))
    assert outputs["ids"].shape == (1, 5)
    assert outputs["distances"][0][0] == pytest.approx(0, abs=1e-3)  # the item itself is nearest


def test_pickle_runtime_refuses_to_load_when_the_policy_says_no(tmp_path, iris_pickle):
    with pytest.raises(RuntimeLoadError, match="disabled"):
        load_runtime("pickle", write(tmp_path, iris_pickle), SAFE)


def test_pickle_runtime_loads_when_the_policy_allows_it(tmp_path, iris_pickle):
    runtime = load_runtime("pickle", write(tmp_path, iris_pickle), LoadPolicy(allow_pickle=True))
    assert runtime.predict(np.array([[5.1, 3.5, 1.4, 0.2]]))["labels"].tolist() == [0]


def test_an_unknown_format_has_no_runtime(tmp_path):
    with pytest.raises(RuntimeLoadError):
        load_runtime("tensorflow", write(tmp_path, b"x"), SAFE)


def test_skops_trust_comes_from_the_policy(tmp_path, recommender_skops):
    with pytest.raises(RuntimeLoadError, match="does not trust"):
        load_runtime("skops", write(tmp_path, recommender_skops[0]), LoadPolicy(skops_trusted_prefixes=("numpy.",)))


_MEASURE = """
import sys
from pathlib import Path
from modelkit import LoadPolicy
from modelkit.runtimes import load_runtime
path = Path(sys.argv[1])
load_runtime("skops", path, LoadPolicy())  # the first load of the kind pays the imports
print(load_runtime("skops", path, LoadPolicy()).memory_bytes)
"""


def test_a_loaded_model_is_charged_what_it_costs_in_memory_not_its_file_size(tmp_path):
    import io
    import subprocess
    import sys

    import skops.io as sio
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    forest = RandomForestRegressor(n_estimators=60, random_state=0).fit(rng.normal(size=(3000, 8)),
                                                                      rng.normal(size=3000))
    buffer = io.BytesIO()
    sio.dump(forest, buffer)
    path = write(tmp_path, buffer.getvalue())
    # A fresh process: in a long test run, memory freed by earlier tests would be reused by the load.
    measured = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).resolve().parents[2])
    # Trees unpack to numpy arrays larger than the zip that holds them.
    assert int(measured.stdout.strip().splitlines()[-1]) > path.stat().st_size
