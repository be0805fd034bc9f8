"""Marketing KPIs computed by counterfactual prediction on the observed weeks."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, Union

import numpy as np
import pandas as pd

from ._data import adstock_matrix
from ._intervals import Estimate, ensemble_estimate

__all__ = ["ResponseModel", "MMMResults", "channel_kpis", "summarize", "compare_with_truth"]

Predictor = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class ResponseModel:
    """The target as a function of the weekly spends, through the fitted causal system.

    A spend scenario is adstocked with the decays, written into the observed feature table,
    propagated through the mediators (each mediator keeps its observed residual: its new value
    is ``observed + m(new parents) - m(observed parents)``), and the target model predicts.

    Attributes:
        features: observed feature table (one row per week).
        channels: channel columns (adstocked spends in ``features``).
        decays: geometric decay per channel.
        target: target column.
        target_inputs: columns the target model reads, in order.
        mediator_inputs: ``{mediator: input columns}`` in causal order.
        predictors: ``{node: f(X) -> y}`` for the target and every mediator.
    """

    features: pd.DataFrame
    channels: tuple
    decays: np.ndarray
    target: str
    target_inputs: tuple
    mediator_inputs: Mapping[str, tuple]
    predictors: Mapping[str, Predictor]

    def predict(self, spends: np.ndarray) -> np.ndarray:
        """Predicted target for spend scenarios ``(s, t, c)`` (or one ``(t, c)``) → ``(s, t)``."""
        spends = np.asarray(spends, np.float64)
        single = spends.ndim == 2
        spends = spends[None] if single else spends
        s, t, c = spends.shape
        if (t, c) != (len(self.features), len(self.channels)):
            raise ValueError(f"spends must have shape (s, {len(self.features)}, {len(self.channels)}); got {spends.shape}")
        stock = adstock_matrix(spends, self.decays)
        base = {k: np.asarray(self.features[k], np.float64) for k in self.features.columns}
        cols = {k: np.broadcast_to(v, (s, t)) for k, v in base.items()}
        for j, ch in enumerate(self.channels):
            cols[ch] = stock[:, :, j]
        for med, inputs in self.mediator_inputs.items():
            f = self.predictors[med]
            observed = f(np.column_stack([base[k] for k in inputs]))
            new = f(np.stack([cols[k] for k in inputs], axis=-1).reshape(s * t, len(inputs))).reshape(s, t)
            cols[med] = base[med][None, :] + new - observed[None, :]
        X = np.stack([cols[k] for k in self.target_inputs], axis=-1).reshape(s * t, len(self.target_inputs))
        out = np.asarray(self.predictors[self.target](X), np.float64).reshape(s, t)
        return out[0] if single else out


def channel_kpis(
    model: ResponseModel, spend: np.ndarray, multipliers: Sequence[float] = tuple(np.linspace(0, 2, 21)), step: float = 0.01
) -> dict:
    """Per-channel contributions, ROI, marginal ROI and response curves of one model.

    Contribution of channel ``c`` in week ``t`` is the prediction with the actual spends
    minus the prediction with channel ``c`` switched off in every week (re-adstocked, so the
    carry-over of earlier weeks is removed too). ROI is total contribution over total spend;
    marginal ROI is the extra target from ``(1 + step)`` times the channel's spend, per unit
    of the extra spend. A response curve point at multiplier ``m`` is the total target with
    the channel at ``m`` times its spend minus the total with the channel off.

    Returns:
        ``{"predicted": (t,), "contribution": (t, c), "roi": (c,), "mroi": (c,),
        "curve": (c, g), "multipliers": (g,)}``.

    Example:
        >>> feats = pd.DataFrame({"tv": [1.0, 2.0], "y": [0.0, 0.0]})
        >>> m = ResponseModel(feats, ("tv",), np.zeros(1), "y", ("tv",), {}, {"y": lambda X: 3 * X[:, 0]})
        >>> channel_kpis(m, np.array([[1.0], [2.0]]))["roi"].tolist()
        [3.0]
    """
    spend = np.asarray(spend, np.float64)
    t, c = spend.shape
    mult = np.asarray(multipliers, np.float64)
    g = mult.size
    scenarios = [spend]
    for j in range(c):
        off = spend.copy()
        off[:, j] = 0.0
        scenarios.append(off)
    for j in range(c):
        up = spend.copy()
        up[:, j] *= 1.0 + step
        scenarios.append(up)
    for j in range(c):
        for m in mult:
            s = spend.copy()
            s[:, j] *= m
            scenarios.append(s)
    pred = model.predict(np.stack(scenarios))
    actual = pred[0]
    off = pred[1 : 1 + c]
    up = pred[1 + c : 1 + 2 * c]
    curves = pred[1 + 2 * c :].reshape(c, g, t)
    totals = spend.sum(axis=0)
    contribution = (actual[None, :] - off).T
    safe = np.where(totals > 0, totals, np.nan)
    return {
        "predicted": actual,
        "contribution": contribution,
        "roi": contribution.sum(axis=0) / safe,
        "mroi": (up - actual[None, :]).sum(axis=1) / (step * safe),
        "curve": curves.sum(axis=2) - off.sum(axis=1)[:, None],
        "multipliers": mult,
    }


@dataclasses.dataclass
class MMMResults:
    """Tidy KPI tables, every one with a ``variant`` column (``augmented`` / ``observed``).

    Attributes:
        contributions: ``date, variant, channel, contribution, lower, upper`` (weekly).
        summary: ``variant, channel, spend, spend_share, contribution, contribution_lower,
            contribution_upper, effect_share, roi, roi_lower, roi_upper, roi_aug_sd, mroi,
            mroi_lower, mroi_upper``.
        response: ``variant, channel, multiplier, spend, contribution, lower, upper, current``.
        fit: ``date, variant, actual, predicted, baseline`` (baseline: all channels off).
        truth: error against the ground truth when it is known, else ``None``.
        diagnostics: Bayesian model only: ``variant, parameter, mean, sd, r_hat, ess``.
        lift: with lift tests: ``variant, channel, start, end, lift, sd, predicted, z``.
    """

    contributions: pd.DataFrame
    summary: pd.DataFrame
    response: pd.DataFrame
    fit: pd.DataFrame
    truth: pd.DataFrame | None = None
    diagnostics: pd.DataFrame | None = None
    lift: pd.DataFrame | None = None

    def to_csv(self, folder: Union[str, os.PathLike]) -> list[str]:
        """Write every table as ``<folder>/<name>.csv``; returns the paths."""
        os.makedirs(folder, exist_ok=True)
        paths = []
        for name in ("contributions", "summary", "response", "fit", "truth", "diagnostics", "lift"):
            table = getattr(self, name)
            if table is not None:
                path = os.path.join(folder, f"{name}.csv")
                table.to_csv(path, index=False)
                paths.append(path)
        return paths


def summarize(
    variants: Mapping[str, ResponseModel],
    boots: Mapping[str, Sequence[ResponseModel]],
    spend: np.ndarray,
    dates: pd.Series,
    target: np.ndarray,
    *,
    interval: float = 0.9,
    response_max: float = 2.0,
    points: int = 21,
    method: str = "percentile",
    draws: Mapping[str, Sequence[ResponseModel]] | None = None,
) -> MMMResults:
    """KPIs of every variant on the observed weeks: point and interval from the refits.

    Every KPI (weekly and total contribution, ROI, marginal ROI, response curve) is computed
    on each refit of ``boots[variant]``; its point is the median of that ensemble and its
    interval the ensemble's central ``interval`` percentiles (``method="percentile"``), or the
    same summaries of the ensemble reflected about the full fit (``"basic"``), see
    :func:`ensemble_estimate`. So every point lies inside its interval. Without refits the
    points are the full fit's and the intervals NaN. The ``fit`` table (predicted, baseline)
    is the full fit's.

    ``roi_aug_sd`` is the standard deviation of the ROI over ``draws[variant]``: fits on the
    same observed weeks with the same weights and model seed, each with a different
    augmentation draw (NaN with fewer than two draws).

    Example:
        >>> feats = pd.DataFrame({"tv": [1.0, 2.0], "y": [0.0, 0.0]})
        >>> def model(beta):
        ...     return ResponseModel(feats, ("tv",), np.zeros(1), "y", ("tv",), {}, {"y": lambda X: beta * X[:, 0]})
        >>> res = summarize({"observed": model(3.0)}, {"observed": [model(b) for b in (2.0, 2.5, 4.0)]},
        ...                 np.array([[1.0], [2.0]]), pd.Series(pd.date_range("2024-01-07", periods=2, freq="W")),
        ...                 np.zeros(2))
        >>> res.summary[["roi", "roi_lower", "roi_upper"]].round(2).values.tolist()
        [[2.5, 2.05, 3.85]]
    """
    spend = np.asarray(spend, np.float64)
    mult = np.linspace(0.0, response_max, points)
    draws = draws or {}
    kpis = [
        _variant_kpis(name, model, boots.get(name, ()), draws.get(name, ()), spend, mult, interval, method)
        for name, model in variants.items()
    ]
    totals = spend.sum(axis=0)
    return MMMResults(
        contributions=pd.concat([_contribution_rows(k, dates) for k in kpis], ignore_index=True),
        summary=pd.DataFrame([row for k in kpis for row in _summary_rows(k, totals)]),
        response=pd.concat([_response_rows(k, mult, totals) for k in kpis], ignore_index=True),
        fit=pd.concat([_fit_rows(k, dates, target) for k in kpis], ignore_index=True),
    )


class _VariantKPIs(NamedTuple):
    """One variant's KPIs: points and intervals over its refits, and the full fit's predictions."""

    name: str
    channels: tuple
    contribution: Estimate  # (t, c) weekly
    total: Estimate  # (c,)
    roi: Estimate  # (c,)
    mroi: Estimate  # (c,)
    curve: Estimate  # (c, g)
    roi_aug_sd: np.ndarray  # (c,) over augmentation draws
    predicted: np.ndarray  # (t,) full fit, actual spends
    baseline: np.ndarray  # (t,) full fit, all channels off


def _kpis_with_total(model: ResponseModel, spend: np.ndarray, mult: np.ndarray) -> dict:
    k = channel_kpis(model, spend, mult)
    return {**k, "total": k["contribution"].sum(axis=0)}


def _variant_kpis(name, model, boots, draws, spend, mult, interval, method) -> _VariantKPIs:
    full = _kpis_with_total(model, spend, mult)
    reps = [_kpis_with_total(b, spend, mult) for b in boots]

    def estimate(key: str) -> Estimate:
        stack = np.stack([r[key] for r in reps]) if reps else None
        return ensemble_estimate(full[key], stack, interval=interval, method=method)

    n_channels = len(model.channels)
    draw_roi = np.array([channel_kpis(d, spend, mult)["roi"] for d in draws]).reshape(-1, n_channels)
    roi_aug_sd = draw_roi.std(axis=0, ddof=1) if len(draw_roi) > 1 else np.full(n_channels, np.nan)
    return _VariantKPIs(
        name, model.channels, *map(estimate, ("contribution", "total", "roi", "mroi", "curve")),
        roi_aug_sd=roi_aug_sd, predicted=full["predicted"], baseline=model.predict(spend * 0.0),
    )


def _contribution_rows(k: _VariantKPIs, dates: pd.Series) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "date": dates.to_numpy(),
                    "variant": k.name,
                    "channel": ch,
                    "contribution": k.contribution.point[:, j],
                    "lower": k.contribution.lower[:, j],
                    "upper": k.contribution.upper[:, j],
                }
            )
            for j, ch in enumerate(k.channels)
        ],
        ignore_index=True,
    )


def _summary_rows(k: _VariantKPIs, totals: np.ndarray) -> list[dict]:
    positive = np.clip(k.total.point, 0, None)
    return [
        {
            "variant": k.name,
            "channel": ch,
            "spend": totals[j],
            "spend_share": totals[j] / totals.sum(),
            "contribution": k.total.point[j],
            "contribution_lower": k.total.lower[j],
            "contribution_upper": k.total.upper[j],
            "effect_share": positive[j] / positive.sum() if positive.sum() > 0 else np.nan,
            "roi": k.roi.point[j],
            "roi_lower": k.roi.lower[j],
            "roi_upper": k.roi.upper[j],
            "roi_aug_sd": k.roi_aug_sd[j],
            "mroi": k.mroi.point[j],
            "mroi_lower": k.mroi.lower[j],
            "mroi_upper": k.mroi.upper[j],
        }
        for j, ch in enumerate(k.channels)
    ]


def _response_rows(k: _VariantKPIs, mult: np.ndarray, totals: np.ndarray) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "variant": k.name,
                    "channel": ch,
                    "multiplier": mult,
                    "spend": mult * totals[j],
                    "contribution": k.curve.point[j],
                    "lower": k.curve.lower[j],
                    "upper": k.curve.upper[j],
                    "current": np.isclose(mult, 1.0),
                }
            )
            for j, ch in enumerate(k.channels)
        ],
        ignore_index=True,
    )


def _fit_rows(k: _VariantKPIs, dates: pd.Series, target: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": dates.to_numpy(),
            "variant": k.name,
            "actual": np.asarray(target, np.float64),
            "predicted": k.predicted,
            "baseline": k.baseline,
        }
    )


def compare_with_truth(results: MMMResults, true_contributions: pd.DataFrame, true_roi: pd.Series) -> pd.DataFrame:
    """Errors of every variant's KPIs against known answers (from :func:`simulate`).

    Per channel: true and estimated ROI and their absolute error, true and estimated effect
    share, and the weekly contribution error (mean absolute error divided by the mean
    absolute true contribution). A row ``channel == "all"`` averages over channels.
    """
    rows = []
    truth_share = np.clip(true_contributions[list(true_roi.index)].sum(), 0, None)
    truth_share = truth_share / truth_share.sum()
    for name, part in results.summary.groupby("variant", sort=False):
        for _, r in part.iterrows():
            ch = r["channel"]
            est = results.contributions.query("variant == @name and channel == @ch")["contribution"].to_numpy()
            true_c = true_contributions[ch].to_numpy()
            rows.append(
                {
                    "variant": name,
                    "channel": ch,
                    "true_roi": float(true_roi[ch]),
                    "roi": r["roi"],
                    "roi_abs_error": abs(r["roi"] - float(true_roi[ch])),
                    "roi_covered": bool(r["roi_lower"] <= true_roi[ch] <= r["roi_upper"])
                    if np.isfinite(r["roi_lower"])
                    else np.nan,
                    "true_share": float(truth_share[ch]),
                    "effect_share": r["effect_share"],
                    "share_abs_error": abs(r["effect_share"] - float(truth_share[ch])),
                    "contribution_rel_error": float(np.mean(np.abs(est - true_c)) / max(np.mean(np.abs(true_c)), 1e-12)),
                }
            )
        block = pd.DataFrame([x for x in rows if x["variant"] == name])
        mean = block.drop(columns=["variant", "channel"]).astype(float).mean()
        rows.append({"variant": name, "channel": "all", **mean.to_dict()})
    return pd.DataFrame(rows)
