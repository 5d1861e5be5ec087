"""The installed ``modelyard`` executable in real subprocesses, as a shell script would run it."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from client.tests.conftest import PASSWORD, ROWS
from modelyard import Client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
COMMAND = Path(sys.executable).parent / "modelyard"  # the venv's console script (pip install ./client)


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(COMMAND), *args], env=env, input=stdin, capture_output=True, text=True, timeout=180)


def test_the_installed_command_pushes_predicts_and_exits_with_codes_scripts_trust(server, owner, team, tmp_path,
                                                                                iris_skops, iris_estimator):
    assert COMMAND.is_file(), f"{COMMAND} missing: the client is not installed in this environment"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELYARD_")}
    env.update({"MODELYARD_CONFIG_DIR": str(tmp_path / "config"), "NO_COLOR": "1"})
    (tmp_path / "iris.skops").write_bytes(iris_skops)

    login = run(env, "login", "--url", server, "-u", owner.username, "--password-stdin", stdin=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    assert stat.S_IMODE((tmp_path / "config" / "credentials.json").stat().st_mode) == 0o600

    pushed = run(env, "--json", "push", str(tmp_path / "iris.skops"), "-m", "iris", "-t", "acme", "-a", "staging")
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["status"] == "ready"
    answer = run(env, "--json", "predict", "models:/iris@staging", "--input", "-", stdin=json.dumps(ROWS))
    assert answer.returncode == 0, answer.stderr
    import numpy as np

    assert json.loads(answer.stdout)["outputs"]["labels"] == iris_estimator.predict(np.array(ROWS)).tolist()

    missing = run(env, "--json", "versions", "nope")
    assert missing.returncode == 4 and json.loads(missing.stdout)["error"]["code"] == "not_found"
    with Client(server, username=owner.username, password=PASSWORD) as as_owner:
        secret = as_owner.create_service_token("acme", "ci", "predictor")["token"]
    ci = {**env, "MODELYARD_TOKEN": secret, "MODELYARD_URL": server, "MODELYARD_CONFIG_DIR": str(tmp_path / "ci")}
    scored = run(ci, "--json", "predict", "iris/1", "--data", json.dumps(ROWS))
    assert scored.returncode == 0 and json.loads(scored.stdout)["version"] == 1, scored.stderr
    assert not (tmp_path / "ci").exists()  # a token from the environment is never written anywhere
    denied = run(ci, "alias", "iris", "staging", "1")  # a predictor token may not move aliases
    assert denied.returncode == 3 and "permission" in denied.stderr.lower()
    forged = run({**env, "MODELYARD_TOKEN": "forged", "MODELYARD_URL": server}, "versions", "iris")
    assert forged.returncode == 3 and "Authentication credentials" in forged.stderr
    usage = run(env, "predict", "iris@staging")  # no rows
    assert usage.returncode == 2 and "--data" in usage.stderr
    unknown = run(env, "pusj")
    assert unknown.returncode == 2
