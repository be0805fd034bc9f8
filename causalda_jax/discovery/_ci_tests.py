"""Conditional-independence tests: Fisher-z (linear-Gaussian) and a randomized kernel test (nonlinear).

Both run on the host in float64 numpy: they are called a few hundred times per PC run on
different conditioning sets, each a tiny regression, which is not worth a device round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

__all__ = ["CITest", "fisher_z", "rcit", "make_ci_test"]

CITest = Callable[[int, int, Sequence[int]], float]
"""``test(x, y, z) -> p-value`` for ``X_x independent of X_y given X_z`` (column indices)."""


def _as_float_matrix(data: np.ndarray) -> np.ndarray:
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"data must be a 2-d array (rows, variables); got shape {data.shape}")
    return data


def fisher_z(data: np.ndarray, x: int, y: int, z: Sequence[int] = (), *, corr: np.ndarray | None = None) -> tuple[float, float]:
    """Fisher-z test of zero partial correlation between columns ``x`` and ``y`` given ``z``.

    Args:
        data: ``(n, d)`` array.
        x, y: column indices.
        z: conditioning column indices.
        corr: the correlation matrix of ``data``, when already computed.

    Returns:
        ``(partial_correlation, p_value)`` with the two-sided normal p-value of
        ``sqrt(n - |z| - 3) * atanh(r)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=500); b = a + rng.normal(size=500); c = b + rng.normal(size=500)
        >>> r, p = fisher_z(np.c_[a, b, c], 0, 2, [1])
        >>> p > 0.01
        True
    """
    data = _as_float_matrix(data)
    n = data.shape[0]
    z = [int(k) for k in z]
    if corr is None:
        corr = np.corrcoef(data, rowvar=False)
    idx = [int(x), int(y), *z]
    sub = corr[np.ix_(idx, idx)]
    prec = np.linalg.pinv(sub)
    r = -prec[0, 1] / np.sqrt(prec[0, 0] * prec[1, 1])
    r = float(np.clip(r, -1 + 1e-12, 1 - 1e-12))
    dof = n - len(z) - 3
    if dof <= 0:
        return r, 1.0
    stat = np.sqrt(dof) * np.arctanh(r)
    return r, float(2.0 * stats.norm.sf(abs(stat)))


def _fourier_features(values: np.ndarray, n_features: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Random Fourier features of a Gaussian kernel with bandwidth ``scale``."""
    w = rng.normal(size=(values.shape[1], n_features)) / scale
    b = rng.uniform(0, 2 * np.pi, size=n_features)
    return np.sqrt(2.0) * np.cos(values @ w + b)


def _median_distance(values: np.ndarray, rng: np.random.Generator, max_rows: int = 300) -> float:
    if values.shape[0] > max_rows:
        values = values[rng.choice(values.shape[0], max_rows, replace=False)]
    sq = np.sum((values[:, None, :] - values[None, :, :]) ** 2, axis=-1)
    med = np.sqrt(np.median(sq[np.triu_indices_from(sq, 1)]))
    return float(med) if med > 0 else 1.0


def rcit(
    data: np.ndarray,
    x: int,
    y: int,
    z: Sequence[int] = (),
    *,
    n_features: int = 10,
    n_features_z: int = 50,
    ridge: float = 1e-3,
    seed: int = 0,
) -> tuple[float, float]:
    """Randomized conditional-independence test (RCIT, Strobl, Zhang & Visweswaran 2019).

    Random Fourier features of ``x`` and ``y`` are residualised on random Fourier features
    (and the linear terms) of ``z`` by ridge regression; the statistic is ``n`` times the
    squared Frobenius norm of the residual cross-covariance, and its null distribution (a
    weighted sum of chi-squares) is matched by a gamma with the same mean and variance.

    Returns:
        ``(statistic, p_value)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=400); b = np.sin(2 * a) + 0.3 * rng.normal(size=400)
        >>> rcit(np.c_[a, b], 0, 1)[1] < 0.01
        True
    """
    data = _as_float_matrix(data)
    rng = np.random.default_rng(seed)
    n = data.shape[0]
    std = data.std(axis=0)
    cols = [int(x), int(y), *map(int, z)]
    scaled = (data[:, cols] - data[:, cols].mean(axis=0)) / np.where(std[cols] > 0, std[cols], 1.0)
    fx = _fourier_features(scaled[:, :1], n_features, 1.0, rng)
    fy = _fourier_features(scaled[:, 1:2], n_features, 1.0, rng)
    fx -= fx.mean(axis=0)
    fy -= fy.mean(axis=0)
    if len(cols) > 2:
        zs = scaled[:, 2:]
        fz = _fourier_features(zs, n_features_z, _median_distance(zs, rng), rng)
        design = np.c_[fz - fz.mean(axis=0), zs]
        gram = design.T @ design + ridge * n * np.eye(design.shape[1])
        coef = np.linalg.solve(gram, design.T @ np.c_[fx, fy])
        resid = np.c_[fx, fy] - design @ coef
        fx, fy = resid[:, :n_features], resid[:, n_features:]
    cross = fx.T @ fy / n
    statistic = n * float(np.sum(cross**2))
    prods = (fx[:, :, None] * fy[:, None, :]).reshape(n, -1)
    prods -= prods.mean(axis=0)
    sigma = prods.T @ prods / n
    mean = float(np.trace(sigma))
    var = 2.0 * float(np.sum(sigma * sigma))
    if mean <= 0 or var <= 0:
        return statistic, 1.0
    shape, scale = mean**2 / var, var / mean
    return statistic, float(stats.gamma.sf(statistic, shape, scale=scale))


def make_ci_test(data: np.ndarray, kind: str = "fisherz", *, seed: int = 0) -> CITest:
    """A ``test(x, y, z) -> p_value`` closure over ``data`` for ``kind`` in ``{"fisherz", "rcit"}``.

    Example:
        >>> test = make_ci_test(np.random.default_rng(0).normal(size=(200, 3)))
        >>> 0.0 <= test(0, 1, [2]) <= 1.0
        True
    """
    data = _as_float_matrix(data)
    if kind == "fisherz":
        corr = np.corrcoef(data, rowvar=False)
        return lambda x, y, z=(): fisher_z(data, x, y, z, corr=corr)[1]
    if kind == "rcit":
        return lambda x, y, z=(): rcit(data, x, y, z, seed=seed)[1]
    raise ValueError(f"unknown conditional-independence test {kind!r}; use 'fisherz' or 'rcit'")
