"""KServe's own InferenceRESTClient (v1 and v2), unchanged, against gunicorn: it lives in .venv-kserve (its
protobuf pin clashes with onnx's), made by .ci/run from requirements-kserve.txt; elsewhere this test skips
saying how to make it. Under CI (MODELYARD_REQUIRE_KSERVE) a missing client fails the run instead."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from registry.tokens import RefreshToken

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PYTHON = Path(os.environ.get("MODELYARD_KSERVE_PYTHON", Path(settings.BASE_DIR) / ".venv-kserve" / "bin" / "python"))
SCRIPT = Path(__file__).with_name("kserve_client_script.py")


def kserve_python() -> Path:
    if PYTHON.exists():
        return PYTHON
    message = (f"KServe's client not found at {PYTHON}: python3 -m venv .venv-kserve && "
               ".venv-kserve/bin/pip install -r requirements-kserve.txt (.ci/run does this)")
    if os.environ.get("MODELYARD_REQUIRE_KSERVE"):
        pytest.fail(message)
    pytest.skip(message)


def test_kserves_own_client_predicts_over_v1_and_v2(web_server, ready_iris, teammate, iris_rows):
    python = kserve_python()
    token = str(RefreshToken.for_user(teammate).access_token)
    done = subprocess.run([str(python), str(SCRIPT), web_server, token, "iris", json.dumps(iris_rows)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["v1_ready"] is True and found["v2_ready"] is True
    labels = [row["labels"] for row in found["v1"]["predictions"]]
    assert labels == [0, 2]  # iris_rows: a setosa and a virginica
    assert found["v2"]["labels"] == labels
    np.testing.assert_allclose(np.array(found["v2"]["probabilities"]).reshape(2, -1),
                               [row["probabilities"] for row in found["v1"]["predictions"]], rtol=1e-6)
    assert found["forged"] == 401
