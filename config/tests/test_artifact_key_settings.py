"""The artifact keys' configuration fails loudly at start-up, naming the problem and never the key."""

import importlib

import pytest
from django.core.exceptions import ImproperlyConfigured

from registry.envelope import new_key

K1, K2 = new_key(), new_key()


@pytest.mark.parametrize("text, message", [
    ("k1", "not 'key-id:base64-key'"), ("k 1:" + K1, "not 'key-id"), ("k1:not-base64!", "not valid base64"),
    ("k1:" + K1[:-8] + "AAAA", "AES-256 needs 32"), (f"k1:{K1},k1:{K2}", "appears twice"),
])
def test_a_bad_key_configuration_stops_the_process_naming_the_problem(text, message, monkeypatch):
    import config.settings

    monkeypatch.setenv("MODELYARD_ARTIFACT_KEYS", text)
    with pytest.raises(ImproperlyConfigured, match=message) as raised:
        importlib.reload(config.settings)
    assert K1 not in str(raised.value) and K2 not in str(raised.value)
    monkeypatch.delenv("MODELYARD_ARTIFACT_KEYS")
    importlib.reload(config.settings)


def test_keys_come_from_a_mounted_file_first_line_active(tmp_path, monkeypatch):
    import config.settings

    secret = tmp_path / "artifact-keys"
    secret.write_text(f"# rotated 2026-11\nk2:{K2}\nk1:{K1}\n")
    monkeypatch.setenv("MODELYARD_ARTIFACT_KEYS_FILE", str(secret))
    try:
        assert list(importlib.reload(config.settings).MODELYARD_ARTIFACT_KEYS) == ["k2", "k1"]
    finally:
        monkeypatch.delenv("MODELYARD_ARTIFACT_KEYS_FILE")
        importlib.reload(config.settings)
