"""Validation of the samples and weights that metrics receive."""

from __future__ import annotations

import numpy as np
import pandas as pd
from jaxtyping import Float

__all__ = ["as_matrix", "as_pair", "as_weights"]


def as_matrix(x, name: str) -> Float[np.ndarray, "n d"]:
    """A float64 ``(n, d)`` copy of a DataFrame, 2-D array or 1-D array (one column)."""
    arr = np.array(x.to_numpy() if isinstance(x, (pd.DataFrame, pd.Series)) else x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values; drop or impute them first")
    return arr


def as_pair(x, y, names: tuple[str, str] = ("x", "y")) -> tuple[np.ndarray, np.ndarray]:
    """Two matrices over the same columns; DataFrames are aligned by column name."""
    if isinstance(x, pd.DataFrame) and isinstance(y, pd.DataFrame):
        missing = [c for c in x.columns if c not in y.columns]
        if missing or len(x.columns) != len(y.columns):
            raise ValueError(f"{names[0]} and {names[1]} must have the same columns; {names[1]} lacks {missing}")
        y = y[list(x.columns)]
    a, b = as_matrix(x, names[0]), as_matrix(y, names[1])
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{names[0]} has {a.shape[1]} columns but {names[1]} has {b.shape[1]}")
    return a, b


def as_weights(weights, n: int, name: str) -> Float[np.ndarray, " n"]:
    """Non-negative weights normalised to sum to one (uniform when ``None``)."""
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.array(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise ValueError(f"{name} must have one weight per row ({n}); got {w.shape[0]}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{name} must be finite and non-negative")
    total = w.sum()
    if total <= 0:
        raise ValueError(f"{name} sum to zero; at least one row needs a positive weight")
    return w / total
