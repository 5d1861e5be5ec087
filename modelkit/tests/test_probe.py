"""Native loaders that can crash on a corrupt file are first tried in a child process."""

import sys

import pytest

from modelkit.errors import RuntimeLoadError
from modelkit.probe import probe_load
from modelkit.tests import framework_models as fm


def test_a_model_that_loads_passes_the_probe(tmp_path):
    path = tmp_path / "model"
    path.write_bytes(fm.xgboost_model("binary").data)
    probe_load("xgboost", path)


def test_a_refused_file_gives_the_loaders_message(tmp_path):
    data = fm.xgboost_model("binary").data
    path = tmp_path / "model"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeLoadError) as refused:
        probe_load("xgboost", path)
    assert refused.value.message.startswith("XGBoost cannot load this model: ")
    assert "\n" not in refused.value.message and str(tmp_path) not in refused.value.message


def test_a_loader_that_crashes_the_process_is_a_load_error(tmp_path, monkeypatch):
    crashing = tmp_path / "python"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")  # a child that dies as a segfaulting parser does
    crashing.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(crashing))
    (tmp_path / "model").write_bytes(b"{}")
    with pytest.raises(RuntimeLoadError, match=r"The lightgbm loader crashed reading this file \(signal 11\)"):
        probe_load("lightgbm", tmp_path / "model")


def test_other_formats_are_not_probed(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    probe_load("onnx", tmp_path / "missing")  # no child started at all
