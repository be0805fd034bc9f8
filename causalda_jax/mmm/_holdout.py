"""Holdout validation: refit every variant without the last weeks and score it on them."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._data import feature_table, min_weeks

__all__ = ["HoldoutResult", "forecast_scores", "holdout_validation"]


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
    training weeks only, and skips the bootstrap. Holdout weeks keep the carry-over of earlier
    spend, and their mediators (branded search, visits) are the observed ones, as at the time of
    a weekly forecast check.

    Returns:
        :class:`HoldoutResult`; with too few weeks left to fit, empty tables and a ``note``.
    """
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
    if cfg.model == "bayes":
        # The posterior is built on the fitted weeks' standardised inputs; scoring unseen weeks
        # needs the model re-evaluated on them, which the Bayesian response does not offer yet.
        return empty._replace(note="No holdout for the Bayesian model (model: bayes): only the refitted models "
                                   "(xgboost, mlp, linear) are scored on held-out weeks.")
    train = MarketingMixModel(dataclasses.replace(cfg, bootstrap=0)).fit(weekly.iloc[: n - weeks], graph=model.graph_)
    features = feature_table(weekly, cfg, train.decays_)
    spend = weekly[list(cfg.channels)].to_numpy(np.float64)
    actual = weekly[cfg.target].to_numpy(np.float64)
    split = np.where(np.arange(n) < n - weeks, "in-sample", "holdout")
    rows, preds = [], []
    for variant, rm in train.models_.items():
        predicted = dataclasses.replace(rm, features=features).predict(spend)
        preds.append(pd.DataFrame({"date": weekly[cfg.date].to_numpy(), "variant": variant, "split": split,
                                   "actual": actual, "predicted": predicted}))
        for name in ("holdout", "in-sample"):
            m = split == name
            rows.append({"variant": variant, "split": name, "weeks": int(m.sum()),
                         **forecast_scores(actual[m], predicted[m])})
    return HoldoutResult(pd.DataFrame(rows), pd.concat(preds, ignore_index=True))
