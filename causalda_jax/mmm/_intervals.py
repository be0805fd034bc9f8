"""Point and interval of a KPI from one ensemble of refits."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

__all__ = ["INTERVAL_METHODS", "Estimate", "ensemble_estimate"]

INTERVAL_METHODS = ("percentile", "basic")


class Estimate(NamedTuple):
    """A KPI's point and its central interval, elementwise over the KPI's shape."""

    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def ensemble_estimate(
    full: np.ndarray, refits: np.ndarray | None, *, interval: float = 0.9, method: str = "percentile"
) -> Estimate:
    """Point and interval of a KPI, both summaries of the same ensemble.

    The ensemble is the refits (``"percentile"``) or the refits reflected about the full
    fit, ``2 * full - refits`` (``"basic"``, the basic bootstrap). The point is the ensemble's
    median and the interval its central ``interval`` percentiles, so ``lower <= point <=
    upper`` holds for every element by construction. NaN refits (a KPI undefined for a
    channel without spend) are ignored. Without refits the point is the full fit and the
    interval is NaN.

    Args:
        full: the KPI of the full fit, any shape.
        refits: the KPI of every refit, shape ``(b, *full.shape)``, or ``None``.
        interval: central coverage in (0, 1).
        method: ``"percentile"`` or ``"basic"``.

    Example:
        >>> full, refits = np.array(1.0), np.array([0.5, 1.5, 2.0, 3.0])
        >>> [float(v) for v in ensemble_estimate(full, refits, interval=0.5)]
        [1.75, 1.25, 2.25]
        >>> [float(v) for v in ensemble_estimate(full, refits, interval=0.5, method="basic")]
        [0.25, -0.25, 0.75]
    """
    if method not in INTERVAL_METHODS:
        raise ValueError(f"interval method must be one of {list(INTERVAL_METHODS)}; got {method!r}")
    if not 0 < interval < 1:
        raise ValueError(f"interval must be in (0, 1); got {interval}")
    full = np.asarray(full, np.float64)
    if refits is None or len(refits) == 0:
        nan = np.full_like(full, np.nan)
        return Estimate(full, nan, nan.copy())
    refits = np.asarray(refits, np.float64)
    ensemble = 2.0 * full[None] - refits if method == "basic" else refits
    lo_q, hi_q = 50.0 * (1.0 - interval), 50.0 * (1.0 + interval)
    with warnings.catch_warnings():
        # An all-NaN KPI (a channel without spend) is NaN on purpose.
        warnings.filterwarnings("ignore", message="All-NaN slice", category=RuntimeWarning)
        lower, point, upper = np.nanpercentile(ensemble, [lo_q, 50.0, hi_q], axis=0)
    return Estimate(point, lower, upper)

