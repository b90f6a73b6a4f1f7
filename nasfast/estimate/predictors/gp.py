"""A Gaussian process (``sklearn.gaussian_process``): a Matern kernel with learnt length scale and
noise; its posterior std is the uncertainty. Serves small training sets (cubic in n)."""

from __future__ import annotations

import warnings

import numpy as np

from nasfast.estimate.predictors.base import Predictor, check_int
from nasfast.estimate.predictors.trees import _import


class GPPredictor(Predictor):
    """Args:
    restarts: restarts of the kernel hyperparameter optimiser.
    """

    name = "gp"
    has_std = True
    scale_inputs = True

    def __init__(self, restarts: int = 2) -> None:
        self.restarts = check_int(restarts, "restarts", 0)

    def _fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        gp = _import("sklearn.gaussian_process")
        kernels = _import("sklearn.gaussian_process.kernels")
        kernel = kernels.ConstantKernel(1.0, (1e-3, 1e3)) * kernels.Matern(
            length_scale=np.sqrt(X.shape[1]), length_scale_bounds=(1e-1, 1e3), nu=2.5
        ) + kernels.WhiteKernel(0.1, (1e-5, 1e1))
        self.model = gp.GaussianProcessRegressor(
            kernel=kernel, n_restarts_optimizer=self.restarts, random_state=seed % 2**31
        )
        with warnings.catch_warnings():  # a hyperparameter at its bound is normal on small data
            warnings.simplefilter("ignore", _import("sklearn.exceptions").ConvergenceWarning)
            self.model.fit(X, y)

    def _predict(self, X: np.ndarray, want_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if want_std:
            mean, std = self.model.predict(X, return_std=True)
            return mean, std
        return self.model.predict(X), None
