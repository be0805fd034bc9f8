"""Additive-noise conditionals: a regression for the mean plus residuals resampled from training.

``y = m(x) + s(x) · e`` where ``m`` is a fitted regressor, ``e`` is drawn from the training
residuals (in proportion to the row weights) and ``s`` is 1, or with ``heteroskedastic=True`` a
second regressor's model of the residual spread (fitted to ``log r²``; the training residuals
are divided by it before they are resampled). Unlike the kernel conditional, the draws take
values between and beyond the observed ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._inputs import as_inputs
from ._regressors import REGRESSORS, fit_regressor

__all__ = ["ANM", "FittedANM"]


class FittedANM(eqx.Module):
    """A fitted additive-noise conditional ``y = m(x) + s(x) · e``, ``e`` resampled.

    With a ridge or MLP regressor every field is a JAX array or module: ``sample`` is
    differentiable in the parameters (the residual index is the only discrete choice; the
    draw is reparameterised given it).

    Attributes:
        regression: ``m``, a callable on ``(m, c)`` inputs.
        log_variance: ``log s²`` up to a constant (None: homoskedastic).
        residuals: ``(n,)`` training residuals, divided by ``s(x_i)`` when heteroskedastic.
        probs: ``(n,)`` probability of drawing each residual (the normalised row weights).
    """

    regression: Callable
    log_variance: Callable | None
    residuals: Float[Array, " n"]
    probs: Float[Array, " n"]

    def scale(self, X: Float[ArrayLike, "m c"]) -> Float[Array, " m"]:
        """``s(x)``: the residual scale at each row (ones when homoskedastic)."""
        X = jnp.asarray(X, jnp.float32)
        if self.log_variance is None:
            return jnp.ones(X.shape[0], jnp.float32)
        return jnp.exp(0.5 * self.log_variance(X))

    def mean(self, X: Float[ArrayLike, "m c"]) -> Float[Array, " m"]:
        """``E[y | x] = m(x) + s(x) · E[e]``."""
        X = jnp.asarray(X, jnp.float32)
        return self.regression(X) + self.scale(X) * (self.probs @ self.residuals)

    def variance(self, X: Float[ArrayLike, "m c"]) -> Float[Array, " m"]:
        """``Var[y | x] = s(x)² · Var[e]`` under the resampling law."""
        e_mean = self.probs @ self.residuals
        return self.scale(X) ** 2 * (self.probs @ (self.residuals - e_mean) ** 2)

    def sample(self, X: Float[ArrayLike, "m c"], *, key: PRNGKeyArray) -> Float[Array, " m"]:
        """``m(x) + s(x) · e_J`` with ``J`` drawn by the residual probabilities, one per row."""
        X = jnp.asarray(X, jnp.float32)
        if _is_jax(self.regression) and (self.log_variance is None or _is_jax(self.log_variance)):
            return _draw(self, X, key)
        return self.regression(X) + self.scale(X) * _pick(self.residuals, self.probs, key, X.shape[0])

    def log_prob(self, X: ArrayLike, y: ArrayLike) -> Array:
        raise NotImplementedError(
            "an additive-noise conditional resamples observed residuals: its law has no density. "
            "Use the 'mdn' estimator for log-densities"
        )


def _is_jax(f) -> bool:
    return isinstance(f, eqx.Module)


def _pick(residuals: Float[Array, " n"], probs: Float[Array, " n"], key: PRNGKeyArray, m: int) -> Float[Array, " m"]:
    # choice with p= inverts the CDF (a search per draw): no (m, n) array.
    return residuals[jax.random.choice(key, residuals.shape[0], (m,), p=probs)]


@jax.jit
def _draw(fitted: FittedANM, X: Float[Array, "m c"], key: PRNGKeyArray) -> Float[Array, " m"]:
    return fitted.regression(X) + fitted.scale(X) * _pick(fitted.residuals, fitted.probs, key, X.shape[0])


class ANM:
    """Additive-noise conditional estimator: a regressor for the mean, resampled residuals for the noise.

    Args:
        regressor: ``"xgboost"`` (default), ``"ridge"`` (closed form, differentiable) or
            ``"mlp"`` (:class:`causalda_jax.models.MLPRegressor`, differentiable).
        heteroskedastic: also model the residual spread with a second regressor of the same
            kind (fitted to ``log r²``) and scale the resampled residuals by it.
        regressor_params: keyword arguments for the regressor (``alpha`` for ridge;
            ``MLPRegressor``'s or ``XGBRegressor``'s parameters otherwise).

    Example:
        >>> import jax, numpy as np
        >>> X = np.linspace(-1, 1, 50)[:, None]; y = 2 * X[:, 0] + 0.1 * np.sin(40 * X[:, 0])
        >>> fitted = ANM("ridge", regressor_params={"alpha": 0.0}).fit(X, y, key=jax.random.key(0))
        >>> fitted.sample(np.zeros((3, 1)), key=jax.random.key(1)).shape
        (3,)
    """

    target_kind = "continuous"

    def __init__(
        self,
        regressor: str = "xgboost",
        *,
        heteroskedastic: bool = False,
        regressor_params: Mapping[str, Any] | None = None,
    ):
        if regressor not in REGRESSORS:
            raise ValueError(f"unknown regressor {regressor!r} for 'anm'; choose one of {list(REGRESSORS)}")
        self.regressor = regressor
        self.heteroskedastic = bool(heteroskedastic)
        self.regressor_params = dict(regressor_params or {})

    def __repr__(self) -> str:
        return f"ANM({self.regressor!r}, heteroskedastic={self.heteroskedastic})"

    def fit(
        self, X: ArrayLike, y: ArrayLike, weight: ArrayLike | None = None, *, key: PRNGKeyArray
    ) -> FittedANM:
        """Fit the regression (and the spread) with row weights; keep the weighted residuals."""
        Xa, ya, w = as_inputs(X, y, weight)
        seed = int(jax.random.randint(key, (), 0, 2**31 - 1))
        regression = fit_regressor(self.regressor, Xa, ya, w, self.regressor_params, seed)
        resid = ya - np.asarray(regression(jnp.asarray(Xa)), np.float32)
        log_variance = None
        if self.heteroskedastic:
            # The floor keeps log r² finite at exact fits; a constant bias of s cancels, since the
            # residuals are divided by the same s before they are resampled.
            floor = 1e-2 * np.average(resid**2, weights=w) + 1e-12
            log_r2 = np.log(resid.astype(np.float64) ** 2 + floor).astype(np.float32)
            log_variance = fit_regressor(self.regressor, Xa, log_r2, w, self.regressor_params, seed + 1)
            resid = resid / np.exp(0.5 * np.asarray(log_variance(jnp.asarray(Xa)), np.float32))
        return FittedANM(regression, log_variance, jnp.asarray(resid, jnp.float32), jnp.asarray(w / w.sum(), jnp.float32))
