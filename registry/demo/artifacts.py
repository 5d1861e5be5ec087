"""Build the demo models in process: nothing is downloaded, the data ships with scikit-learn."""

import numpy as np


def iris_onnx() -> tuple[bytes, list[list[float]]]:
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    classifier = LogisticRegression(max_iter=1000).fit(features, labels)
    onx = to_onnx(classifier, features[:1].astype(np.float32), options={id(classifier): {"zipmap": False}})
    return onx.SerializeToString(), features[[0, 75]].tolist()


def recommender_skops(items: int = 500, dims: int = 16) -> tuple[bytes, list[list[float]]]:
    """The classic nearest-neighbour recommender: items embedded in a space, neighbours by distance."""
    import skops.io as sio
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(7)
    item_matrix = rng.normal(size=(items, dims))
    model = NearestNeighbors(n_neighbors=5).fit(item_matrix)
    return sio.dumps(model), item_matrix[[3]].round(4).tolist()
