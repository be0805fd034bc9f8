"""Per-edge statistics of a fitted DAG: regression weights and conditional-independence p-values."""

from __future__ import annotations

import numpy as np

from ._ci_tests import CITest

__all__ = ["added_edge_weights", "ols_weights", "parent_pvalue"]


def ols_weights(data: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """Standardised least-squares weights of each node on its parents in ``adjacency``.

    Entry ``[i, j]`` is the coefficient of standardised ``X_i`` in the regression of
    standardised ``X_j`` on its parents; zero where there is no edge.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=1000); b = a + rng.normal(size=1000)
        >>> w = ols_weights(np.c_[a, b], np.array([[False, True], [False, False]]))
        >>> round(float(w[0, 1]), 1)  # corr(a, b) = 1 / sqrt(2)
        0.7
    """
    data = np.asarray(data, np.float64)
    std = data.std(axis=0)
    z = (data - data.mean(axis=0)) / np.where(std > 0, std, 1.0)
    adjacency = np.asarray(adjacency, bool)
    weights = np.zeros(adjacency.shape)
    for j in range(adjacency.shape[1]):
        parents = np.nonzero(adjacency[:, j])[0]
        if parents.size:
            coef, *_ = np.linalg.lstsq(z[:, parents], z[:, j], rcond=None)
            weights[parents, j] = coef
    return weights


def parent_pvalue(test: CITest, adjacency: np.ndarray, i: int, j: int) -> float:
    """p-value of ``X_i`` independent of ``X_j`` given the parents of ``j`` other than ``i``.

    A small value says the data support an edge between ``i`` and ``j`` beyond what the rest
    of the graph explains.
    """
    parents = [int(k) for k in np.nonzero(np.asarray(adjacency, bool)[:, j])[0] if k != i]
    return float(test(int(i), int(j), parents))


def added_edge_weights(data: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """Entry ``[i, j]``: standardised weight of ``X_i`` when regressing ``X_j`` on its parents
    in ``adjacency`` plus ``X_i`` (the strength the edge ``i -> j`` would have)."""
    data = np.asarray(data, np.float64)
    std = data.std(axis=0)
    z = (data - data.mean(axis=0)) / np.where(std > 0, std, 1.0)
    adjacency = np.asarray(adjacency, bool)
    d = adjacency.shape[0]
    weights = np.zeros((d, d))
    for j in range(d):
        for i in range(d):
            if i == j:
                continue
            cols = sorted(set(np.nonzero(adjacency[:, j])[0].tolist()) | {i})
            coef, *_ = np.linalg.lstsq(z[:, cols], z[:, j], rcond=None)
            weights[i, j] = coef[cols.index(i)]
    return weights
