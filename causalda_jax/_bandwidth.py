"""Per-column kernel bandwidths: reference rules, fixed values and per-column overrides."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._custom_types import BandwidthSpec
from ._tabular import Table

__all__ = ["RULES", "bandwidth_rule", "bandwidths"]

RULES = ("normal_reference", "silverman", "scott")


def _spread(x: np.ndarray) -> float:
    # min(sd, IQR/1.349), falling back to sd when the IQR is zero (as statsmodels does).
    sd = float(np.std(x, ddof=1))
    q75, q25 = np.percentile(x, [75, 25])
    iqr = float(q75 - q25) / 1.349
    return min(sd, iqr) if iqr > 0 else sd


def bandwidth_rule(x: np.ndarray, rule: str) -> float:
    """One column's bandwidth under a named rule.

    ``normal_reference``: 1.0592·min(sd, IQR/1.349)·n^(−1/5) (the published ADMG-DA rule);
    ``silverman``: 0.9·min(sd, IQR/1.349)·n^(−1/5); ``scott``: sd·n^(−1/5).

    Example:
        >>> import numpy as np
        >>> round(bandwidth_rule(np.array([0.0, 1.0, 2.0, 3.0]), "scott"), 4)
        0.9784
    """
    n = x.shape[0]
    if rule == "normal_reference":
        return 1.0592 * _spread(x) * n ** (-0.2)
    if rule == "silverman":
        return 0.9 * _spread(x) * n ** (-0.2)
    if rule == "scott":
        return float(np.std(x, ddof=1)) * n ** (-0.2)
    raise ValueError(f"unknown bandwidth rule {rule!r}; use one of {list(RULES)}, a positive float or a per-column dict")


def _check_positive(value: float, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive finite number, got {value}")
    return value


def bandwidths(table: Table, spec: BandwidthSpec = "normal_reference", scale: float = 1.0) -> np.ndarray:
    """Bandwidth of every column, times ``scale``; categorical columns get 1 (unused).

    Args:
        table: the prepared table.
        spec: a rule name, a positive float for every continuous column, or a mapping from
            column name to a rule name or a float (unlisted columns use ``normal_reference``).
        scale: the bandwidth scale τ multiplying every bandwidth.

    Raises:
        ValueError: unknown rule or column, a non-positive value, or a zero bandwidth from a
            constant column (the message names it).
    """
    scale = _check_positive(scale, "bandwidth_scale")
    if isinstance(spec, Mapping):
        unknown = [str(k) for k in spec if k not in table.columns]
        if unknown:
            raise ValueError(f"bandwidth dict names columns that are not in the data: {unknown}")
        per_column = [spec.get(c, "normal_reference") for c in table.columns]
    else:
        per_column = [spec] * table.d
    h = np.ones(table.d, dtype=np.float64)
    for j, (name, s) in enumerate(zip(table.columns, per_column)):
        if table.is_categorical[j]:
            continue
        if isinstance(s, str):
            value = bandwidth_rule(table.values[:, j], s)
            if not value > 0:
                raise ValueError(
                    f"column {name!r} is constant, so the {s} bandwidth is zero; drop the column, declare it "
                    "categorical, or give it a bandwidth explicitly"
                )
        else:
            value = _check_positive(s, f"bandwidth of column {name!r}")
        h[j] = value * scale
        if not (np.isfinite(h[j]) and h[j] > 0):
            raise ValueError(f"bandwidth of column {name!r} is {h[j]} after scaling; choose a larger bandwidth_scale")
    return h
