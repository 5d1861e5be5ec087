"""Small models of each framework format, trained here, with held-out rows the training never saw."""

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import train_test_split


@dataclass
class Trained:
    data: bytes  # the file as the framework saves it
    held_out: np.ndarray
    expected: np.ndarray  # the framework's own answer on held_out: probabilities, or predictions


DATASETS = {"binary": load_breast_cancer, "multiclass": load_iris, "regression": load_diabetes}


def split(task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = DATASETS[task](return_X_y=True)
    train_x, held_out, train_y, _ = train_test_split(x, y, test_size=0.25, random_state=0)
    return train_x, train_y, held_out


def _saved(save: Any, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"model{suffix}"
        save(str(path))
        return path.read_bytes()


def xgboost_model(task: str, suffix: str = ".json") -> Trained:
    import xgboost

    x, y, held_out = split(task)
    estimator = (xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier)(
        n_estimators=30, max_depth=3, n_jobs=1).fit(x, y)
    expected = estimator.predict(held_out) if task == "regression" else estimator.predict_proba(held_out)
    return Trained(_saved(estimator.save_model, suffix), held_out, expected)


def lightgbm_model(task: str) -> Trained:
    import lightgbm

    x, y, held_out = split(task)
    estimator = (lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier)(
        n_estimators=30, num_leaves=8, n_jobs=1, verbose=-1).fit(x, y)
    expected = estimator.predict(held_out) if task == "regression" else estimator.predict_proba(held_out)
    return Trained(_saved(estimator.booster_.save_model, ".txt"), held_out, expected)


def torchscript_model(exact: bool = True) -> Trained:
    """An MLP regressor on diabetes; ``exact=False`` adds an op torch.onnx cannot export (served by torch)."""
    import torch

    x, y, held_out = split("regression")
    torch.manual_seed(0)
    scale = torch.tensor(x.std(axis=0), dtype=torch.float32)
    network = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(network.parameters(), lr=0.05)
    inputs, targets = torch.tensor(x, dtype=torch.float32) / scale, torch.tensor(y, dtype=torch.float32)[:, None]
    for _ in range(200):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(network(inputs), targets).backward()
        optimizer.step()
    module = _Scaled(network, scale) if exact else _Unconvertible(network, scale)
    scripted = torch.jit.script(module.eval())
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    with torch.inference_mode():
        expected = scripted(torch.tensor(held_out, dtype=torch.float32)).numpy()[:, 0]
    return Trained(buffer.getvalue(), held_out, expected)


def _torch_modules() -> tuple[type, type]:
    import torch

    class Scaled(torch.nn.Module):
        def __init__(self, network: torch.nn.Module, scale: torch.Tensor) -> None:
            super().__init__()
            self.network, self.scale = network, scale

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.network(x / self.scale)

    class Unconvertible(Scaled):
        """Uses an operator torch.onnx cannot export (a Bessel function): served by torch itself."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.network(x / self.scale) + 0.0 * torch.special.bessel_j0(x[:, :1])

    return Scaled, Unconvertible


try:
    _Scaled, _Unconvertible = _torch_modules()
except ImportError:  # torch is an optional extra; its tests skip without it
    _Scaled = _Unconvertible = None  # type: ignore[assignment,misc]
