"""Rollout fixtures: a second ready version of iris, web workers that report it loaded, metric windows to order."""

from collections.abc import Callable
from typing import Any

import pytest

from conftest import make_version
from core import presence, windows
from registry.models import ModelVersion
from rollouts import services
from rollouts.models import Rollout
from rollouts.tests.live import beat, beat_env

__all__ = ["beat", "beat_env"]  # fixtures for the integration modules


@pytest.fixture
def candidate(model, owner, ready_iris, iris_onnx) -> ModelVersion:
    return make_version(model, owner, iris_onnx[0], filename="iris.onnx", input_example=iris_onnx[1])


@pytest.fixture
def loaded_everywhere(monkeypatch, candidate, ready_iris) -> dict[str, set[int]]:
    """Two live web workers that have both versions loaded; tests may edit what they report."""
    reports = {"web-1": {ready_iris.id, candidate.id}, "web-2": {ready_iris.id, candidate.id}}
    monkeypatch.setattr(presence, "live", lambda: reports)
    return reports


def window(version: int, requests: int = 0, errors: int = 0, bucket: int = 20, shadow_rows: int = 0,
           agreed: int = 0) -> windows.Window:
    counts = {"n": requests, "e": errors, f"b{bucket}": requests, "s": shadow_rows, "a": agreed}
    return windows.Window(version=version, start=0, end=60, counts={k: v for k, v in counts.items() if v})


@pytest.fixture
def traffic(monkeypatch) -> Callable[..., None]:
    """Set what the metric windows say per version id: traffic(version, requests=..., errors=..., ...)."""
    table: dict[int, dict[str, Any]] = {}

    def read(version_id: int, start: float, end: float) -> windows.Window:
        return window(version_id, **table.get(version_id, {}))

    monkeypatch.setattr(windows, "read", read)

    def set_traffic(version: ModelVersion, **counts: Any) -> None:
        table[version.id] = counts

    return set_traffic


@pytest.fixture
def start(model, owner, candidate) -> Callable[..., Rollout]:
    def begin(**overrides: Any) -> Rollout:
        fields = {"alias": "production", "version": candidate.version, "strategy": "canary", "steps": [5, 50, 100],
                  "step_seconds": 10, "guards": {"min_requests": 20}, **overrides}
        return services.rollout_create(actor=owner, model=model, **fields)

    return begin
