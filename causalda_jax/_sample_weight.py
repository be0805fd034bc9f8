"""Host-side validation of sample weights, shared by every learner that accepts them."""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike

__all__ = ["check_sample_weight"]


def check_sample_weight(sample_weight: ArrayLike | None, n: int, *, name: str = "sample_weight") -> np.ndarray:
    """Return the weights as a float64 vector of length ``n``, or raise a clear error.

    ``None`` means one weight per row. Weights must be finite, non-negative, and not all zero:
    a weighted mean is undefined otherwise, and a silent NaN would poison training.

    Raises:
        TypeError: the weights are not numeric.
        ValueError: wrong length, NaN/inf, negative entries, or all zero.

    Example:
        >>> check_sample_weight(None, 3)
        array([1., 1., 1.])
    """
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    w = np.asarray(sample_weight)
    if w.dtype == object or not (np.issubdtype(w.dtype, np.number) or w.dtype == bool):
        raise TypeError(f"{name} must be numeric; got dtype {w.dtype}")
    w = w.astype(np.float64)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one weight per row; got shape {w.shape}")
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise ValueError(
            f"{name} has {bad.size} NaN or infinite entries (first at row {bad[0]}); weights must be finite"
        )
    neg = np.flatnonzero(w < 0)
    if neg.size:
        raise ValueError(
            f"{name} has {neg.size} negative entries (first: {w[neg[0]]!r} at row {neg[0]}); weights must be >= 0"
        )
    if n > 0 and not np.any(w > 0):
        raise ValueError(f"{name} is all zero; at least one row needs a positive weight")
    return w
