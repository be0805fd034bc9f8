"""How often the ROI intervals cover the true ROI on simulated markets."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ._intervals import INTERVAL_METHODS
from ._kpis import channel_kpis
from ._model import MarketingMixModel
from ._simulate import CONTROLS, simulate

__all__ = ["interval_coverage", "coverage_summary"]


def interval_coverage(
    markets: int = 4,
    *,
    weeks: int = 104,
    channels: int = 4,
    bootstrap: int = 20,
    model: str = "xgboost",
    augmentation: str = "sample",
    augmentation_draws: int = 5,
    methods: Sequence[str] = INTERVAL_METHODS,
    interval: float = 0.9,
    seed: int = 0,
    model_params: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Fit simulated markets with known ROI and record every channel's interval against it.

    Market ``i`` is :func:`simulate` with seed ``seed + i``, fitted with the true graph (so
    the intervals are judged apart from graph learning) by :class:`MarketingMixModel` with
    and without augmentation (variants ``augmented`` and ``observed`` of one fit). Each
    method in ``methods`` summarises the same refits.

    Returns:
        One row per (market, variant, method, channel): ``true_roi``, the point ``roi``, its
        interval ``roi_lower``/``roi_upper``, ``covered`` (the interval holds the true ROI),
        ``full_fit_roi`` (the ROI of the single fit on all weeks and one augmentation draw)
        and ``roi_aug_sd`` (ROI spread over augmentation draws at fixed weights).

    Example:
        >>> t = interval_coverage(1, weeks=30, channels=3, bootstrap=2, model="linear", augmentation="none")
        >>> t.groupby(["variant", "method"], sort=False)["covered"].size().to_dict()
        {('observed', 'percentile'): 3, ('observed', 'basic'): 3}
    """
    say = progress or (lambda msg: None)
    rows = []
    for i in range(markets):
        sim = simulate(weeks=weeks, channels=channels, seed=seed + i)
        mmm = MarketingMixModel(
            target="sales", channels=sim.channels, controls=CONTROLS, mediators=(sim.mediator,),
            graph=sim.graph.to_dict(), augmentation=augmentation, augmentation_draws=augmentation_draws,
            model=model, model_params=dict(model_params or {}), bootstrap=bootstrap, interval=interval, seed=seed + i,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mmm.fit(sim.data)
        full = {v: channel_kpis(m, mmm.spend_)["roi"] for v, m in mmm.models_.items()}
        for method in methods:
            mmm.config = dataclasses.replace(mmm.config, interval_method=method)
            s = mmm.kpis().summary
            true = sim.roi.reindex(s["channel"]).to_numpy()
            full_roi = np.concatenate([full[v] for v in dict.fromkeys(s["variant"])])
            rows.append(
                s[["variant", "channel", "roi", "roi_lower", "roi_upper", "roi_aug_sd"]].assign(
                    market=i, method=method, true_roi=true, full_fit_roi=full_roi,
                    covered=(s["roi_lower"] <= true) & (true <= s["roi_upper"]),
                )
            )
        say(f"market {i + 1}/{markets} fitted")
    cols = ["market", "variant", "method", "channel", "true_roi", "roi", "roi_lower", "roi_upper", "covered",
            "full_fit_roi", "roi_aug_sd"]
    return pd.concat(rows, ignore_index=True)[cols]


def coverage_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per variant and method: coverage and what the points and intervals look like.

    Columns: ``pairs`` ((market, channel) pairs), ``coverage`` (share of intervals that hold
    the true ROI), ``mean_width``, ``point_abs_error`` (mean absolute error of the point),
    ``full_fit_abs_error`` (the same for the single full fit), ``full_fit_outside`` (share
    of full-fit ROIs outside the interval) and ``mean_roi_aug_sd``.

    Example:
        >>> t = pd.DataFrame({"market": 0, "variant": "observed", "method": "percentile", "channel": ["a", "b"],
        ...                   "true_roi": [1.0, 2.0], "roi": [1.1, 1.5], "roi_lower": [0.9, 1.4], "roi_upper": [1.2, 1.6],
        ...                   "covered": [True, False], "full_fit_roi": [1.0, 1.7], "roi_aug_sd": np.nan})
        >>> coverage_summary(t)[["pairs", "coverage", "full_fit_outside"]].values.tolist()
        [[2.0, 0.5, 0.5]]
    """
    t = table.assign(
        width=table["roi_upper"] - table["roi_lower"],
        point_err=(table["roi"] - table["true_roi"]).abs(),
        full_err=(table["full_fit_roi"] - table["true_roi"]).abs(),
        full_out=(table["full_fit_roi"] < table["roi_lower"]) | (table["full_fit_roi"] > table["roi_upper"]),
    )
    out = t.groupby(["variant", "method"], sort=False).agg(
        pairs=("covered", "size"),
        coverage=("covered", "mean"),
        mean_width=("width", "mean"),
        point_abs_error=("point_err", "mean"),
        full_fit_abs_error=("full_err", "mean"),
        full_fit_outside=("full_out", "mean"),
        mean_roi_aug_sd=("roi_aug_sd", "mean"),
    )
    return out.reset_index()
