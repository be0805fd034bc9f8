"""Distributions of root causes (nodes without parents)."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

__all__ = ["ROOTS", "gaussian_root", "gmm_root"]


def gmm_root(n: int, rng: np.random.Generator, *, k: int = 4) -> Float[np.ndarray, " n"]:
    """Sample a one-dimensional Gaussian mixture with random parameters.

    As in the Causal Discovery Toolbox's ``gmm_cause``: ``k = 4`` components, means
    ``2 * N(0, 1)``, standard deviations ``|2 * N(0, 1) + 1|``, weights ``U(0, 1)``
    normalised. The component of each row is drawn independently, so rows are in random
    order (that toolbox returns the sample grouped by component, which makes independent
    roots correlated through row order; it also sets ``covars_``, an attribute that
    scikit-learn's ``GaussianMixture.sample`` ignores, so its spreads are not the ones above).

    Example:
        >>> gmm_root(3, np.random.default_rng(0)).shape
        (3,)
    """
    means = 2.0 * rng.standard_normal(k)
    stds = np.abs(2.0 * rng.standard_normal(k) + 1.0)
    weights = rng.random(k)
    weights = weights / weights.sum()
    comp = rng.choice(k, size=n, p=weights)
    return means[comp] + stds[comp] * rng.standard_normal(n)


def gaussian_root(n: int, rng: np.random.Generator) -> Float[np.ndarray, " n"]:
    """Sample a standard normal root cause.

    Example:
        >>> gaussian_root(4, np.random.default_rng(0)).shape
        (4,)
    """
    return rng.standard_normal(n)


ROOTS = {"gmm": gmm_root, "gaussian": gaussian_root}
