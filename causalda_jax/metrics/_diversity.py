"""Diversity and size of an augmented set relative to the training set."""

from __future__ import annotations

import numpy as np

from ._inputs import as_matrix, as_pair, as_weights

__all__ = ["diversity", "frac_augmented", "frac_filtered"]


def _weighted_var(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    mean = w @ x
    return w @ (x - mean) ** 2


def diversity(original, augmented, *, weights=None, original_weights=None) -> float:
    """Mean over columns of the relative change of the (weighted) variance.

    ``mean_j (Var_w(augmented_j) - Var(original_j)) / Var(original_j)``, with population
    variances (normalised weights, no ``n - 1`` correction) on both sides so that a
    weighted copy of the data scores exactly 0. Positive: the augmented set spreads more.
    Constant original columns are skipped.

    Example:
        >>> x = np.array([[0.0], [1.0], [2.0]])
        >>> diversity(x, 2 * x)
        3.0
    """
    x, a = as_pair(original, augmented, ("original", "augmented"))
    wx = as_weights(original_weights, len(x), "original_weights")
    wa = as_weights(weights, len(a), "weights")
    var_x, var_a = _weighted_var(x, wx), _weighted_var(a, wa)
    keep = var_x > 0
    if not keep.any():
        raise ValueError("every column of original is constant; diversity is undefined")
    return float(np.mean((var_a[keep] - var_x[keep]) / var_x[keep]))


def _original_rows(train: np.ndarray, augmented: np.ndarray, source_rows) -> np.ndarray:
    """For each augmented row, the training row it reproduces exactly, or -1."""
    if source_rows is not None:
        src = np.asarray(source_rows)
        if src.ndim != 2 or src.shape[0] != len(augmented):
            raise ValueError(f"source_rows must have shape (len(augmented), d); got {src.shape}")
        if src.shape[1] == 0:
            return np.full(len(augmented), -1)
        whole = (src == src[:, :1]).all(1)
        return np.where(whole, src[:, 0], -1)
    lookup = {row.tobytes(): i for i, row in enumerate(np.ascontiguousarray(train + 0.0))}
    return np.array([lookup.get(row.tobytes(), -1) for row in np.ascontiguousarray(augmented + 0.0)], dtype=int)


def frac_augmented(train, augmented, *, source_rows=None) -> float:
    """Number of new rows (not an exact copy of a training row) divided by ``len(train)``.

    With ``source_rows`` (``AugmentedData.source_rows``: the training row each value came
    from) a row is a copy when all its values come from one training row; without it rows
    are matched by value.

    Example:
        >>> t = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> frac_augmented(t, np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 1.0]]))
        1.0
    """
    t = as_matrix(train, "train")
    a = as_matrix(augmented, "augmented") if len(augmented) else np.empty((0, t.shape[1]))
    return float(np.sum(_original_rows(t, a, source_rows) < 0)) / len(t)


def frac_filtered(train, augmented, *, source_rows=None) -> float:
    """Share of training rows that the augmented set does not reproduce.

    Example:
        >>> t = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> frac_filtered(t, np.array([[0.0, 1.0], [0.0, 0.0]]))
        0.5
    """
    t = as_matrix(train, "train")
    a = as_matrix(augmented, "augmented") if len(augmented) else np.empty((0, t.shape[1]))
    kept = _original_rows(t, a, source_rows)
    return 1.0 - len(np.unique(kept[kept >= 0])) / len(t)
