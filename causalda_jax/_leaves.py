"""Training rows in k-d tree leaf order, and the bounding box of every leaf (host side).

The sampler scores training rows in fixed-size leaves: it picks a leaf with probability
proportional to the leaf's kernel mass, then a row inside it. Any grouping gives the same
distribution; grouping by a k-d tree makes the leaves spatially compact, so that a leaf's
bounding box bounds the kernel values of all its rows. The truncated sampler uses those
bounds (and the leaves' column means and variances, which give a lower bound on a Gaussian
kernel's mass) to skip leaves that cannot be chosen.
"""

from __future__ import annotations

import numpy as np

__all__ = ["leaf_order", "leaf_boxes", "leaf_moments"]


def leaf_order(points: np.ndarray, leaf_size: int, first: np.ndarray | None = None) -> np.ndarray:
    """A permutation of the rows of ``points`` whose consecutive blocks of ``leaf_size`` are k-d tree leaves.

    Each node splits its rows at the median-like position along its widest coordinate; the left
    part always holds a multiple of ``leaf_size`` rows, so every leaf is full except the last.
    Coordinates marked in ``first`` (categorical codes) are split before any other while they
    vary, so that most leaves hold a single category. Deterministic: the same points give the
    same order.

    Args:
        points: ``(n, c)`` coordinates; with ``c = 0`` the identity order is returned.
        leaf_size: rows per leaf, at least 1.
        first: optional ``(c,)`` booleans, the coordinates to split first.

    Returns:
        An int64 permutation of ``range(n)``.

    Example:
        >>> leaf_order(np.array([[3.0], [0.0], [2.0], [1.0]]), 2).tolist()
        [1, 3, 2, 0]
    """
    points = np.asarray(points, dtype=np.float64)
    n = points.shape[0]
    order = np.arange(n)
    if points.ndim != 2 or points.shape[1] == 0:
        return order
    stack = [(0, n)]
    while stack:
        lo, hi = stack.pop()
        size = hi - lo
        if size <= leaf_size:
            continue
        rows = order[lo:hi]
        coords = points[rows]
        extent = coords.max(axis=0) - coords.min(axis=0)
        if first is not None:
            extent = np.where(np.asarray(first) & (extent > 0), np.inf, extent)
        axis = int(np.argmax(extent))
        # Half of the leaves, rounded up, go left: only the rightmost leaf can be short.
        left = leaf_size * ((-(-size // leaf_size) + 1) // 2)
        part = np.argpartition(coords[:, axis], left - 1)
        order[lo:hi] = rows[part]
        stack.append((lo + left, hi))
        stack.append((lo, lo + left))
    return order


def leaf_boxes(sorted_points: np.ndarray, n: int, leaf_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per leaf, the coordinate-wise minimum and maximum of its rows.

    Args:
        sorted_points: ``(n_pad, c)`` points in leaf order; rows from ``n`` on are padding.
        n: number of real rows.
        leaf_size: rows per leaf; ``n_pad`` must be a multiple of it.

    Returns:
        ``(lo, hi)``, each ``(n_pad // leaf_size, c)``; a leaf with no real row has
        ``lo = +inf`` and ``hi = -inf`` (an empty box).

    Example:
        >>> lo, hi = leaf_boxes(np.array([[0.0], [1.0], [5.0], [0.0]]), 3, 2)
        >>> lo.ravel().tolist(), hi.ravel().tolist()
        ([0.0, 5.0], [1.0, 5.0])
    """
    n_pad, c = sorted_points.shape
    real = (np.arange(n_pad) < n)[:, None]
    shape = (n_pad // leaf_size, leaf_size, c)
    lo = np.where(real, sorted_points, np.inf).reshape(shape).min(axis=1)
    hi = np.where(real, sorted_points, -np.inf).reshape(shape).max(axis=1)
    return lo, hi


def leaf_moments(sorted_points: np.ndarray, n: int, leaf_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per leaf, the mean and the population variance of each coordinate over its real rows.

    Args:
        sorted_points: ``(n_pad, c)`` points in leaf order; rows from ``n`` on are padding.
        n: number of real rows.
        leaf_size: rows per leaf; ``n_pad`` must be a multiple of it.

    Returns:
        ``(mean, var)``, each ``(n_pad // leaf_size, c)`` float64; 0 for a leaf with no real row.

    Example:
        >>> mean, var = leaf_moments(np.array([[0.0], [2.0], [5.0], [0.0]]), 3, 2)
        >>> mean.ravel().tolist(), var.ravel().tolist()
        ([1.0, 5.0], [1.0, 0.0])
    """
    n_pad, c = sorted_points.shape
    real = (np.arange(n_pad) < n).reshape(-1, leaf_size, 1)
    points = np.where(real, sorted_points.reshape(-1, leaf_size, c).astype(np.float64), 0.0)
    count = np.maximum(real.sum(axis=1), 1)
    mean = points.sum(axis=1) / count
    var = (np.where(real, points - mean[:, None], 0.0) ** 2).sum(axis=1) / count
    return mean, var
