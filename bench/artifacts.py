"""The benchmark model and request bodies, built in process: nothing is downloaded.

The reference model of the issue: a scikit-learn logistic regression on 30 features, saved twice,
as ONNX (skl2onnx, no ZipMap, so outputs are plain tensors) and as skops.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = 30
# Distinct bodies per scenario, cycled by predict.lua: enough to defeat a response cache, few enough to
# keep the 1,000-row file small (each 1,000-row body is about 600 KB of JSON).
ONE_ROW_BODIES = 64
BATCH_BODIES = 4
BATCH_ROWS = 1000


@dataclass(frozen=True)
class Artifacts:
    onnx: Path
    skops: Path
    one_row_bodies: Path
    batch_bodies: Path
    example: list[list[float]]
    one_row: np.ndarray
    batch: np.ndarray


def _bodies(path: Path, batches: list[np.ndarray]) -> Path:
    # json.dumps of Python floats (shortest repr), as a typical client would send them.
    path.write_text("".join(json.dumps({"inputs": b.tolist()}) + "\n" for b in batches))
    return path


def build(folder: Path) -> Artifacts:
    import skops.io as sio
    from skl2onnx import to_onnx
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    features, labels = make_classification(n_samples=2000, n_features=FEATURES, random_state=0)
    classifier = LogisticRegression(max_iter=1000).fit(features, labels)
    onnx_path = folder / "model.onnx"
    onx = to_onnx(classifier, features[:1].astype(np.float32), options={id(classifier): {"zipmap": False}})
    onnx_path.write_bytes(onx.SerializeToString())
    skops_path = folder / "model.skops"
    skops_path.write_bytes(sio.dumps(classifier))

    rng = np.random.default_rng(0)
    one_row = [features[[i]] for i in rng.choice(len(features), ONE_ROW_BODIES, replace=False)]
    batches = [features[rng.choice(len(features), BATCH_ROWS, replace=False)] for _ in range(BATCH_BODIES)]
    return Artifacts(
        onnx=onnx_path, skops=skops_path,
        one_row_bodies=_bodies(folder / "bodies-1.jsonl", one_row),
        batch_bodies=_bodies(folder / f"bodies-{BATCH_ROWS}.jsonl", batches),
        example=features[:5].tolist(), one_row=one_row[0], batch=batches[0],
    )
