"""Host-side checks and weighted standardisation shared by the estimators."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._sample_weight import check_sample_weight

__all__ = ["as_inputs", "weighted_standardisation"]


def as_inputs(X: ArrayLike, y: ArrayLike, weight: ArrayLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X`` as float32 ``(n, c)``, ``y`` as float32 ``(n,)`` and weights as float64 ``(n,)``, checked."""
    Xa = np.asarray(X, dtype=np.float32)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    ya = np.asarray(y, dtype=np.float32)
    if Xa.ndim != 2 or ya.ndim != 1 or Xa.shape[0] != ya.shape[0]:
        raise ValueError(f"X must be (n, c) and y (n,) with the same n; got X {Xa.shape} and y {ya.shape}")
    if ya.shape[0] < 2:
        raise ValueError(f"need at least 2 rows to fit a conditional; got {ya.shape[0]}")
    if not (np.isfinite(Xa).all() and np.isfinite(ya).all()):
        raise ValueError("X and y must be finite; impute or drop rows with NaN or infinite values")
    return Xa, ya, check_sample_weight(weight, ya.shape[0], name="weight")


def weighted_standardisation(a: Float[Array, "n c"], p: Float[Array, " n"]) -> tuple[Array, Array]:
    """Weighted mean and standard deviation of each column (``p`` sums to 1); a constant column gets scale 1."""
    mean = p @ a
    scale = jnp.sqrt(p @ (a - mean) ** 2)
    return mean, jnp.where(scale > 0, scale, 1.0)
