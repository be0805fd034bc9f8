"""Statistical robustness of a marketing mix, observed weeks versus observed + augmented rows.

Variance inflation factors, weighted correlation matrices and weighted least-squares
regressions (linear and log-log) with heteroskedasticity-robust (HC1) standard errors: the
numbers an analyst reads to judge whether spends that move together can be told apart. Causal
data augmentation resamples each spend given its causes in the graph, so spends that planners
move together for no causal reason should show lower variance inflation once augmented.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import NamedTuple, Union

import numpy as np
import pandas as pd
from scipy import stats

from ._simulate import SEASONALITY

__all__ = ["Diagnostics", "RobustFit", "diagnostics", "robust_wls", "variance_inflation", "weighted_correlation"]

# log(x + offset) for spends that may be zero: the offset is this share of the observed mean.
_LOG_OFFSET = 0.01


def _weights(n: int, weights) -> np.ndarray:
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    if w.shape != (n,):
        raise ValueError(f"weights must have one entry per row ({n}); got {w.shape[0]}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return w


def _centred(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rows centred on the weighted mean and scaled by sqrt(weight)."""
    mean = w @ x / w.sum()
    return np.sqrt(w)[:, None] * (x - mean)


def weighted_correlation(x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Pearson correlation matrix of the columns of ``x`` with row weights.

    Args:
        x: ``(n, d)`` data.
        weights: ``(n,)`` non-negative row weights (default: all ones).

    Returns:
        ``(d, d)``; rows and columns of constant variables are NaN.

    Example:
        >>> x = np.array([[1.0, 2.0], [2.0, 4.1], [3.0, 5.9]])
        >>> round(float(weighted_correlation(x)[0, 1]), 4)
        0.999
    """
    x = np.asarray(x, np.float64)
    c = _centred(x, _weights(len(x), weights))
    cov = c.T @ c
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = cov / np.outer(sd, sd)
    out[sd == 0, :] = np.nan
    out[:, sd == 0] = np.nan
    return out


def variance_inflation(x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Variance inflation factor of every column: ``1 / (1 - R²)`` of its weighted regression on
    the other columns with an intercept.

    Args:
        x: ``(n, d)`` regressors (no constant column).
        weights: ``(n,)`` non-negative row weights (default: all ones).

    Returns:
        ``(d,)``; ``inf`` for a column that the others determine exactly, NaN for a constant one.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=200); b = a + 0.5 * rng.normal(size=200)
        >>> np.round(variance_inflation(np.column_stack([a, b, rng.normal(size=200)])), 1).tolist()
        [4.3, 4.3, 1.0]
    """
    x = np.asarray(x, np.float64)
    c = _centred(x, _weights(len(x), weights))
    d = x.shape[1]
    out = np.empty(d)
    for j in range(d):
        tss = c[:, j] @ c[:, j]
        if tss <= 0:
            out[j] = np.nan
            continue
        others = np.delete(c, j, axis=1)
        if others.shape[1] == 0:
            out[j] = 1.0
            continue
        beta = np.linalg.lstsq(others, c[:, j], rcond=None)[0]
        resid = c[:, j] - others @ beta
        ratio = (resid @ resid) / tss  # 1 - R²
        out[j] = np.inf if ratio <= 1e-12 else 1.0 / ratio
    return out


class RobustFit(NamedTuple):
    """A weighted least-squares fit with HC1 standard errors; index 0 is the intercept."""

    coef: np.ndarray
    std_error: np.ndarray
    t: np.ndarray
    p_value: np.ndarray
    df_resid: int
    r_squared: float


def robust_wls(y: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None) -> RobustFit:
    """Weighted least squares of ``y`` on an intercept and ``x`` with HC1 robust standard errors.

    The fit minimises ``sum(w * (y - b0 - x @ b)**2)``. The covariance is White's sandwich on
    the whitened rows, scaled by ``n / (n - k)`` (HC1); t-statistics are referred to a Student t
    with ``n - k`` degrees of freedom (two-sided p-values). ``n`` counts rows, so rows that are
    synthetic copies of the same information still count as observations.

    Args:
        y: ``(n,)`` outcome.
        x: ``(n, d)`` regressors (the intercept is added).
        weights: ``(n,)`` non-negative row weights (default: all ones).

    Returns:
        :class:`RobustFit` with ``d + 1`` entries per array (intercept first).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(100, 1)); y = 1 + 2 * x[:, 0] + 0.1 * rng.normal(size=100)
        >>> np.round(robust_wls(y, x).coef, 2).tolist()
        [0.99, 2.01]
    """
    y = np.asarray(y, np.float64).reshape(-1)
    x = np.asarray(x, np.float64).reshape(len(y), -1)
    w = _weights(len(y), weights)
    n, k = len(y), x.shape[1] + 1
    if n <= k:
        raise ValueError(f"a regression on {k - 1} variables needs more than {k} rows; got {n}")
    design = np.column_stack([np.ones(n), x])
    sw = np.sqrt(w)
    wx, wy = design * sw[:, None], y * sw
    coef, *_ = np.linalg.lstsq(wx, wy, rcond=None)
    resid = wy - wx @ coef
    bread = np.linalg.pinv(wx.T @ wx)
    meat = (wx * resid[:, None] ** 2).T @ wx
    cov = bread @ meat @ bread * n / (n - k)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    df = n - k
    p = 2 * stats.t.sf(np.abs(t), df)
    centred = wy - sw * (w @ y / w.sum())
    r2 = 1.0 - (resid @ resid) / (centred @ centred) if centred @ centred > 0 else np.nan
    return RobustFit(coef, se, t, p, df, float(r2))


@dataclasses.dataclass(frozen=True)
class Diagnostics:
    """Robustness tables of a fitted marketing mix, observed versus augmented.

    Attributes:
        vif: ``term, role, observed, augmented`` (variance inflation factors; ``augmented`` is
            NaN without augmentation).
        correlation: ``{variant: (d, d) DataFrame}`` weighted correlations of the model variables.
        regression: ``variant, form, term, role, coef, std_error, t, p_value, elasticity``, plus
            ``r_squared`` and ``rows`` per fit; ``form`` is ``linear`` (target on levels) or
            ``log-log`` (log target on log spends, controls in levels). ``elasticity`` is the
            percent change of the target per percent of the variable at its mean (calendar
            terms: NaN).
        notes: plain sentences on what was left out and why.
    """

    vif: pd.DataFrame
    correlation: Mapping[str, pd.DataFrame]
    regression: pd.DataFrame
    notes: tuple = ()

    def to_csv(self, folder: Union[str, os.PathLike]) -> list[str]:
        """Write ``vif.csv``, ``regression.csv`` and ``correlation_<variant>.csv``; returns the paths."""
        os.makedirs(folder, exist_ok=True)
        paths = [os.path.join(folder, "vif.csv"), os.path.join(folder, "regression.csv")]
        self.vif.to_csv(paths[0], index=False)
        self.regression.to_csv(paths[1], index=False)
        for name, table in self.correlation.items():
            paths.append(os.path.join(folder, f"correlation_{name}.csv"))
            table.to_csv(paths[-1])
        return paths


def _roles(config, columns) -> dict:
    calendar = set(SEASONALITY) if config.seasonality else set()
    out = {}
    for c in columns:
        if c in calendar:
            out[c] = "calendar"
        elif c in config.controls:
            out[c] = "control"
        elif c in config.channels:
            out[c] = "channel"
        elif c in config.mediators:
            out[c] = "mediator"
        else:
            out[c] = "target"
    return out


def _regression_rows(variant, form, fit, terms, roles, x, y, w, offsets) -> list[dict]:
    means = w @ x / w.sum()
    y_mean = w @ y / w.sum()
    rows = []
    for i, term in enumerate(["intercept", *terms]):
        b = fit.coef[i]
        elasticity = np.nan
        if i > 0 and roles[term] in ("channel", "control"):
            m = means[i - 1]
            if form == "linear":
                elasticity = b * m / y_mean if y_mean != 0 else np.nan
            elif roles[term] == "channel":
                # d log y / d log s at the mean spend s, with the regressor log(s + offset).
                elasticity = b * m / (m + offsets[term])
            else:
                elasticity = b * m
        rows.append({
            "variant": variant, "form": form, "term": term, "role": "intercept" if i == 0 else roles[term],
            "coef": b, "std_error": fit.std_error[i], "t": fit.t[i], "p_value": fit.p_value[i],
            "elasticity": elasticity, "r_squared": fit.r_squared, "rows": len(y),
        })
    return rows


def diagnostics(model) -> Diagnostics:
    """VIF, correlations and robust regressions of a fitted :class:`MarketingMixModel`.

    The regressors are the calendar features, controls and adstocked spends (mediators are left
    out: they sit on the path from spend to target, and holding them fixed would hide part of
    the media effect). ``observed`` uses the observed weeks; ``augmented`` the observed rows
    plus the augmented rows with the model's augmentation weights.

    Example:
        >>> from causalda_jax.mmm import MarketingMixModel, simulate
        >>> sim = simulate(weeks=60, channels=3, seed=0)
        >>> mmm = MarketingMixModel(target="sales", channels=sim.channels, graph=sim.graph.to_dict(),
        ...                         controls=("price", "promo"), mediators=("branded_search",),
        ...                         augmentation="none", bootstrap=0, model="linear").fit(sim.data)
        >>> d = diagnostics(mmm)
        >>> list(d.vif.columns), sorted(set(d.regression["form"]))
        (['term', 'role', 'observed', 'augmented'], ['linear', 'log-log'])
    """
    cfg = model.config
    obs = model.features_
    roles = _roles(cfg, obs.columns)
    terms = [c for c in obs.columns if roles[c] in ("calendar", "control", "channel")]
    tables = {"observed": (obs, np.ones(len(obs)))}
    if model.augmented_rows_ is not None and len(model.augmented_rows_):
        aug = model.augmented_rows_[list(obs.columns)]
        w_aug = np.asarray(model.augmented_weights_, np.float64)
        tables["augmented"] = (pd.concat([obs, aug], ignore_index=True), np.r_[np.ones(len(obs)), w_aug])
    notes = []
    if cfg.mediators:
        notes.append(
            f"The regressions leave out the mediators ({', '.join(cfg.mediators)}): they carry part of the "
            "media effect, and holding them fixed would understate it."
        )
    channels = [c for c in terms if roles[c] == "channel"]
    offsets = {c: _LOG_OFFSET * float(obs[c].mean()) for c in channels}
    vif = pd.DataFrame({"term": terms, "role": [roles[t] for t in terms]})
    correlation, reg_rows = {}, []
    positive = all((t[cfg.target] > 0).all() for t, _ in tables.values())
    if not positive:
        notes.append(f"The log-log regression needs {cfg.target!r} > 0 in every row; it was left out.")
    for name, (table, w) in tables.items():
        x = table[terms].to_numpy(np.float64)
        y = table[cfg.target].to_numpy(np.float64)
        vif[name] = variance_inflation(x, w)
        correlation[name] = pd.DataFrame(weighted_correlation(table.to_numpy(np.float64), w),
                                         index=obs.columns, columns=obs.columns)
        reg_rows += _regression_rows(name, "linear", robust_wls(y, x, w), terms, roles, x, y, w, offsets)
        if positive:
            xl = x.copy()
            for j, t in enumerate(terms):
                if roles[t] == "channel":
                    xl[:, j] = np.log(x[:, j] + offsets[t])
            reg_rows += _regression_rows(name, "log-log", robust_wls(np.log(y), xl, w), terms, roles, x,
                                         np.log(y), w, offsets)
    if "augmented" not in vif:
        vif["augmented"] = np.nan
    return Diagnostics(vif=vif, correlation=correlation, regression=pd.DataFrame(reg_rows), notes=tuple(notes))
