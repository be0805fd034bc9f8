"""Downstream prediction quality: MAPE and R²."""

from __future__ import annotations

import numpy as np

from ._inputs import as_weights

__all__ = ["mape", "r2_score"]

# As scikit-learn: |y| is floored at machine epsilon so that y = 0 gives a huge, finite error.
_EPS = np.finfo(np.float64).eps


def _targets(y_true, y_pred):
    t = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} values but y_pred has {p.size}")
    if t.size == 0:
        raise ValueError("y_true is empty")
    return t, p


def mape(y_true, y_pred, *, sample_weight=None) -> float:
    """Mean absolute percentage error ``mean |y - yhat| / max(|y|, eps)`` (a fraction, not %).

    Example:
        >>> mape([1.0, 2.0], [1.5, 2.0])
        0.25
    """
    t, p = _targets(y_true, y_pred)
    w = as_weights(sample_weight, t.size, "sample_weight")
    return float(w @ (np.abs(t - p) / np.maximum(np.abs(t), _EPS)))


def r2_score(y_true, y_pred, *, sample_weight=None) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (weighted when asked).

    Example:
        >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
        0.5
    """
    t, p = _targets(y_true, y_pred)
    w = as_weights(sample_weight, t.size, "sample_weight")
    ss_res = w @ (t - p) ** 2
    ss_tot = w @ (t - w @ t) ** 2
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return float(1.0 - ss_res / ss_tot)
