"""A real estimator that takes its time: for tests of in-flight limits and time limits."""

import time

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


class SlowRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, delay: float = 1.0) -> None:
        self.delay = delay

    def fit(self, features: np.ndarray, target: np.ndarray) -> "SlowRegressor":
        self.n_features_in_ = np.asarray(features).shape[1]
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return np.zeros(len(features))
