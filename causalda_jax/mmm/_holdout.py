"""Holdout validation: refit every variant without the last weeks and score it on them."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._data import feature_table, min_weeks

__all__ = ["HoldoutResult", "continued_trend", "forecast_scores", "holdout_validation"]


def continued_trend(dates: pd.Series, fit_weeks: int) -> np.ndarray:
    """The trend feature on the scale a fit on the first ``fit_weeks`` weeks saw, continued past them.

    A fit's trend runs from 0 at its first week to 1 at its last (``seasonality_features``);
    weeks after the fit window continue that line above 1.

    Example:
        >>> continued_trend(pd.Series(pd.date_range("2024-01-07", periods=4, freq="W-SUN")), 3)
        array([0. , 0.5, 1. , 1.5])
    """
    days = np.asarray((pd.DatetimeIndex(pd.to_datetime(dates)) - pd.to_datetime(dates).iloc[0]).days, np.float64)
    return days / max(days[fit_weeks - 1], 1.0)


def forecast_scores(actual: np.ndarray, predicted: np.ndarray) -> dict:
    """MAPE, R² and NRMSE of a forecast.

    MAPE is the mean of ``|actual - predicted| / |actual|``; R² is ``1 - SSE / SST`` around the
    mean of ``actual`` (negative when the forecast is worse than that mean); NRMSE is the root mean
    squared error divided by the range of ``actual``.

    Example:
        >>> s = forecast_scores(np.array([10.0, 20.0, 30.0]), np.array([11.0, 19.0, 30.0]))
        >>> round(s["mape"], 4), round(s["r2"], 4), round(s["nrmse"], 4)
        (0.05, 0.99, 0.0408)
    """
    y = np.asarray(actual, np.float64)
    f = np.asarray(predicted, np.float64)
    err = y - f
    sst = np.sum((y - y.mean()) ** 2)
    spread = y.max() - y.min()
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = float(np.mean(np.abs(err) / np.abs(y)))
    return {
        "mape": mape,
        "r2": float(1 - np.sum(err**2) / sst) if sst > 0 else np.nan,
        "nrmse": float(np.sqrt(np.mean(err**2)) / spread) if spread > 0 else np.nan,
    }


class HoldoutResult(NamedTuple):
    """Scores of refits without the last weeks.

    Attributes:
        scores: ``variant, split, weeks, mape, r2, nrmse``; ``split`` is ``holdout`` (the last
            weeks, never seen by the refit) or ``in-sample`` (the weeks it was fitted on).
        predictions: ``date, variant, split, actual, predicted`` for every week.
        note: why the holdout was skipped, else ``None``.
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame
    note: str | None = None


def holdout_validation(model, weeks: int) -> HoldoutResult:
    """Refit each variant of a fitted :class:`MarketingMixModel` on all but the last ``weeks`` weeks
    and score its predictions on them.

    The refit uses the fitted model's graph (learned on all weeks, so the graph itself is not
    held out), fits its own adstock decays where the config asks for fitted ones, augments the
    training weeks only, skips the bootstrap and the lift tests that end in the held-out weeks,
    and sees the trend on its own scale (0 to 1 over its weeks, continued past them). The
    Bayesian model is scored by its posterior-mean fit. Holdout weeks keep the carry-over of earlier
    spend, and their mediators (branded search, visits) are the observed ones, as at the time of
    a weekly forecast check.

    Returns:
        :class:`HoldoutResult`; with too few weeks left to fit, empty tables and a ``note``.
    """
    from ._bayes import BayesianResponse
    from ._model import MarketingMixModel

    cfg = model.config
    weekly = model.weekly_
    n = len(weekly)
    empty = HoldoutResult(pd.DataFrame(columns=["variant", "split", "weeks", "mape", "r2", "nrmse"]),
                          pd.DataFrame(columns=["date", "variant", "split", "actual", "predicted"]))
    if weeks <= 0:
        return empty._replace(note="No holdout (holdout_weeks is 0).")
    need = min_weeks(len(cfg.channels), len(cfg.controls) + len(cfg.mediators))
    if n - weeks < need:
        return empty._replace(
            note=f"No holdout: {n} weeks leave {n - weeks} to fit after holding out {weeks}, fewer than the "
                 f"{need} a fit needs; lower holdout_weeks.")
    # Experiments that end inside the held-out weeks describe weeks the refit does not see.
    last_fit_date = pd.Timestamp(weekly[cfg.date].iloc[n - weeks - 1])
    lift_tests = tuple(t for t in cfg.lift_tests if t.end <= last_fit_date)
    refit_config = dataclasses.replace(cfg, bootstrap=0, lift_tests=lift_tests)
    train = MarketingMixModel(refit_config).fit(weekly.iloc[: n - weeks], graph=model.graph_)
    features = feature_table(weekly, cfg, train.decays_)
    if cfg.seasonality:
        features["trend"] = continued_trend(weekly[cfg.date], n - weeks)
    spend = weekly[list(cfg.channels)].to_numpy(np.float64)
    actual = weekly[cfg.target].to_numpy(np.float64)
    split = np.where(np.arange(n) < n - weeks, "in-sample", "holdout")
    rows, preds = [], []
    for variant, rm in train.models_.items():
        if isinstance(rm, BayesianResponse):
            predicted = rm.fitted(features, spend)
        else:
            predicted = dataclasses.replace(rm, features=features).predict(spend)
        preds.append(pd.DataFrame({"date": weekly[cfg.date].to_numpy(), "variant": variant, "split": split,
                                   "actual": actual, "predicted": predicted}))
        for name in ("holdout", "in-sample"):
            m = split == name
            rows.append({"variant": variant, "split": name, "weeks": int(m.sum()),
                         **forecast_scores(actual[m], predicted[m])})
    return HoldoutResult(pd.DataFrame(rows), pd.concat(preds, ignore_index=True))
