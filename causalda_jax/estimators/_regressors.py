"""Regressors for a conditional mean: closed-form weighted ridge, the Equinox MLP, XGBoost.

Ridge and the MLP are Equinox modules (pure JAX functions of their parameters, differentiable);
XGBoost is called on the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..models import MLP, MLPRegressor
from ._inputs import weighted_standardisation

__all__ = ["REGRESSORS", "LinearMean", "MLPMean", "XGBoostMean", "fit_regressor", "ridge"]

REGRESSORS = ("ridge", "mlp", "xgboost")


class LinearMean(eqx.Module):
    """``x ↦ x · coef + intercept``.

    Example:
        >>> import jax.numpy as jnp
        >>> LinearMean(jnp.array([2.0]), jnp.array(1.0))(jnp.array([[1.0], [2.0]])).tolist()
        [3.0, 5.0]
    """

    coef: Float[Array, " c"]
    intercept: Float[Array, ""]

    def __call__(self, X: Float[Array, "m c"]) -> Float[Array, " m"]:
        return X @ self.coef + self.intercept


def ridge(X: Float[Array, "n c"], y: Float[Array, " n"], weight: Float[Array, " n"], alpha) -> LinearMean:
    """Weighted ridge regression in closed form, differentiable in every argument (``alpha`` included).

    Minimises ``Σ w_i (y_i - b - z_i·β)² / Σ w + (alpha / n) ‖β‖²`` on weighted-standardised
    inputs ``z`` (the intercept is not penalised): ``alpha`` is in units of rows, as in
    scikit-learn's ``Ridge`` with weights summing to ``n``.

    Example:
        >>> import jax.numpy as jnp
        >>> X = jnp.arange(6.0)[:, None]
        >>> m = ridge(X, 3 * X[:, 0] + 1, jnp.ones(6), 0.0)
        >>> [round(float(v), 3) for v in (m.coef[0], m.intercept)]
        [3.0, 1.0]
    """
    n, c = X.shape
    p = weight / jnp.sum(weight)
    x_mean, x_scale = weighted_standardisation(X, p)
    y_mean = p @ y
    Z = (X - x_mean) / x_scale
    # A tiny floor keeps alpha = 0 solvable with a constant (padding) column.
    gram = Z.T @ (p[:, None] * Z) + (alpha / n + 1e-6) * jnp.eye(c, dtype=Z.dtype)
    beta = jnp.linalg.solve(gram, Z.T @ (p * (y - y_mean))) / x_scale
    return LinearMean(beta, y_mean - x_mean @ beta)


_ridge = jax.jit(ridge)


class MLPMean(eqx.Module):
    """A fitted :class:`causalda_jax.models.MLPRegressor` as a pure function of its parameters."""

    net: MLP
    x_mean: Float[Array, " c"]
    x_scale: Float[Array, " c"]
    y_mean: Float[Array, ""]
    y_scale: Float[Array, ""]

    def __call__(self, X: Float[Array, "m c"]) -> Float[Array, " m"]:
        return jax.vmap(self.net)((X - self.x_mean) / self.x_scale)[:, 0] * self.y_scale + self.y_mean


@dataclass(frozen=True, eq=False)
class XGBoostMean:
    """A fitted ``xgboost.XGBRegressor``, evaluated on the host (not differentiable)."""

    model: Any

    def __call__(self, X: ArrayLike) -> Float[Array, " m"]:
        return jnp.asarray(self.model.predict(np.asarray(X, np.float32)), jnp.float32)


def fit_regressor(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, params: Mapping[str, Any], seed: int):
    """Fit a mean model of ``kind`` (one of ``REGRESSORS``) with sample weights ``w``."""
    params = dict(params)
    if kind == "ridge":
        alpha = float(params.pop("alpha", 1.0))
        if params:
            raise ValueError(f"unknown ridge parameters {sorted(params)}; ridge takes only 'alpha'")
        return _ridge(jnp.asarray(X), jnp.asarray(y), jnp.asarray(w, jnp.float32), jnp.float32(alpha))
    if kind == "mlp":
        settings = {"hidden_layer_sizes": (32, 32), "activation": "tanh", "max_iter": 300, "random_state": seed, **params}
        reg = MLPRegressor(**settings).fit(X, y, sample_weight=w)
        return MLPMean(
            reg.model_,
            jnp.asarray(reg.x_mean_),
            jnp.asarray(reg.x_scale_),
            jnp.asarray(reg.y_mean_[0]),
            jnp.asarray(reg.y_scale_[0]),
        )
    if kind == "xgboost":
        from xgboost import XGBRegressor

        settings = {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1, "n_jobs": 1, "verbosity": 0,
                    "random_state": seed, **params}
        return XGBoostMean(XGBRegressor(**settings).fit(X, y, sample_weight=w))
    raise ValueError(f"unknown regressor {kind!r}; choose one of {list(REGRESSORS)}")
