"""Small models of each framework format, trained here, with held-out rows the training never saw."""

import io
import tempfile
import zipfile
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


def _torch_module(exact: bool) -> tuple[Any, np.ndarray]:
    """An MLP regressor trained on diabetes, and the held-out rows."""
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
    return (_Scaled(network, scale) if exact else _Unconvertible(network, scale)).eval(), held_out


def torchscript_model(exact: bool = True) -> Trained:
    """An MLP regressor on diabetes; ``exact=False`` adds an op torch.onnx cannot export (served by torch)."""
    import torch

    module, held_out = _torch_module(exact)
    scripted = torch.jit.script(module)
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    with torch.inference_mode():
        expected = scripted(torch.tensor(held_out, dtype=torch.float32)).numpy()[:, 0]
    return Trained(buffer.getvalue(), held_out, expected)


def torch_export_model(exact: bool = True, dynamic: bool = True) -> Trained:
    """The same MLP as a torch.export program (.pt2), exported with a dynamic batch dimension unless
    ``dynamic=False`` (then for batches of exactly 2 rows); ``exact=False`` as for TorchScript."""
    import torch

    module, held_out = _torch_module(exact)
    shapes = ({0: torch.export.Dim("batch")},) if dynamic else None
    program = torch.export.export(module, (torch.zeros(2, held_out.shape[1]),), dynamic_shapes=shapes)
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    with torch.no_grad():
        expected = module(torch.tensor(held_out, dtype=torch.float32)).numpy()[:, 0]
    return Trained(buffer.getvalue(), held_out, expected)


def pt2_with_payload(data: bytes, payload: Any) -> bytes:
    """A .pt2 archive whose sample inputs are ``payload`` pickled: torch.export.load's fallback to
    ``torch.load(weights_only=False)`` unpickles it, so its ``__reduce__`` runs in the loading process."""
    import pickle

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            entry = pickle.dumps(payload) if name.endswith("/sample_inputs/model.pt") else source.read(name)
            target.writestr(name, entry)
    return out.getvalue()


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


def savedmodel_archive(task: str = "regression", packing: str = "zip") -> Trained:
    """A tf.Module SavedModel (weights fitted with scikit-learn), packed as zip, tar or tgz of its folder."""
    import os
    import tarfile
    import zipfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    from sklearn.linear_model import LogisticRegression, Ridge

    x, y, held_out = split(task)
    spec = tf.TensorSpec([None, x.shape[1]], tf.float32, name="rows")
    if task == "regression":
        fitted = Ridge(alpha=0.01).fit(x, y)
        weights, bias = fitted.coef_[:, None], np.atleast_1d(fitted.intercept_)
    else:
        fitted = LogisticRegression(max_iter=1000).fit(x, y)
        weights, bias = fitted.coef_.T, fitted.intercept_
    module = tf.Module()
    module.w, module.b = tf.Variable(weights, dtype=tf.float32), tf.Variable(bias, dtype=tf.float32)

    @tf.function(input_signature=[spec])
    def serve(rows: tf.Tensor) -> dict:
        scores = tf.matmul(rows, module.w) + module.b
        if task == "regression":
            return {"value": scores}
        probabilities = tf.nn.softmax(scores)
        return {"probabilities": probabilities, "labels": tf.argmax(probabilities, axis=1)}

    with tempfile.TemporaryDirectory() as folder:
        model_dir = Path(folder) / "model"
        tf.saved_model.save(module, str(model_dir), signatures={"serving_default": serve})
        answer = serve(tf.constant(held_out, dtype=tf.float32))
        expected = (answer["value"].numpy()[:, 0] if task == "regression" else answer["probabilities"].numpy())
        archive = Path(folder) / "archive"
        files = [p for p in model_dir.rglob("*") if p.is_file()]
        if packing == "zip":
            with zipfile.ZipFile(archive, "w") as packed:
                for file in files:
                    packed.write(file, file.relative_to(Path(folder)).as_posix())
        else:
            with tarfile.open(archive, "w:gz" if packing == "tgz" else "w") as packed:
                packed.add(model_dir, arcname="model")
        return Trained(archive.read_bytes(), held_out, expected)
