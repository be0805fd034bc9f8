"""Sample weights on the host: validation, mixing observed with augmented rows, Kish's effective size."""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike

__all__ = ["check_sample_weight", "effective_sample_size", "mix_weights"]


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


def mix_weights(n: int, augmented_weights: np.ndarray, aug_coeff: float) -> np.ndarray:
    """Sample weights for ``n`` original rows followed by the augmented rows.

    Original rows get ``(1 - α) / n`` each, augmented rows ``α · w``; the result is rescaled to
    sum to ``n``, so that weight-denominated hyperparameters (XGBoost's ``min_child_weight`` and
    ``reg_lambda``) keep their unaugmented meaning. With no augmented mass, α is taken as 0.

    Raises:
        ValueError: ``α`` outside [0, 1], or augmented weights that are negative, NaN or infinite.

    Example:
        >>> mix_weights(2, np.array([0.5, 0.5]), 0.5).tolist()
        [0.5, 0.5, 0.5, 0.5]
    """
    if not 0.0 <= aug_coeff <= 1.0:
        raise ValueError(f"aug_coeff must be in [0, 1]; got {aug_coeff!r}")
    aug = np.asarray(augmented_weights, dtype=np.float64)
    if aug.size:
        aug = check_sample_weight(aug, aug.size, name="augmented weights")
    if aug.size == 0 or not aug.sum() > 0:
        aug_coeff = 0.0  # nothing to mix in: the baseline
    w = np.concatenate([np.full(n, (1.0 - aug_coeff) / n), aug_coeff * aug])
    return w * (n / w.sum())


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²`` (0 for no rows or all-zero weights).

    Example:
        >>> effective_sample_size([1.0, 1.0, 2.0])
        2.6666666666666665
    """
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(w) == 0:
        return 0.0
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and non-negative")
    sq = float(np.sum(w**2))
    return float(np.sum(w)) ** 2 / sq if sq > 0 else 0.0
