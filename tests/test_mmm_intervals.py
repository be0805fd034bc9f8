"""KPI points and intervals: one ensemble for both, every point inside its interval, numpy as the oracle."""

import numpy as np
import pandas as pd
import pytest

from causalda_jax.mmm import (
    MarketingMixModel,
    MMMConfig,
    channel_kpis,
    coverage_summary,
    ensemble_estimate,
    interval_coverage,
    simulate,
)
from causalda_jax.mmm._simulate import CONTROLS


def _fit(seed, *, model="xgboost", augmentation="sample", bootstrap=4, draws=2, method="percentile", weeks=48):
    sim = simulate(weeks=weeks, channels=3, seed=seed)
    params = {"n_estimators": 30} if model == "xgboost" else {}
    mmm = MarketingMixModel(
        target="sales", channels=sim.channels, controls=CONTROLS, mediators=(sim.mediator,),
        graph=sim.graph.to_dict(), augmentation=augmentation, augmentation_ratio=1.0, model=model,
        model_params=params, bootstrap=bootstrap, augmentation_draws=draws, interval_method=method, seed=seed,
    )
    return sim, mmm.fit(sim.data)


# Every KPI table and its (point, lower, upper) columns.
_BANDS = [
    ("contributions", "contribution", "lower", "upper"),
    ("summary", "contribution", "contribution_lower", "contribution_upper"),
    ("summary", "roi", "roi_lower", "roi_upper"),
    ("summary", "mroi", "mroi_lower", "mroi_upper"),
    ("response", "contribution", "lower", "upper"),
]


@pytest.mark.parametrize(
    "seed, model, augmentation, method",
    [
        pytest.param(0, "xgboost", "sample", "percentile", marks=pytest.mark.slow),
        pytest.param(1, "xgboost", "sample", "basic", marks=pytest.mark.slow),
        (2, "xgboost", "none", "percentile"),
        (3, "linear", "sample", "percentile"),
        (4, "linear", "none", "basic"),
    ],
)
def test_every_point_is_inside_its_interval(seed, model, augmentation, method):
    _, mmm = _fit(seed, model=model, augmentation=augmentation, method=method)
    res = mmm.kpis()
    for table, point, lo, hi in _BANDS:
        t = getattr(res, table)
        assert t[lo].notna().all() and t[hi].notna().all(), (table, point)
        outside = t[(t[point] < t[lo]) | (t[point] > t[hi])]
        assert outside.empty, f"{table}.{point} outside [{lo}, {hi}]:\n{outside}"
    # The intervals are not degenerate: refits differ.
    assert (res.summary["roi_upper"] > res.summary["roi_lower"]).all()
    # Power check: here the single full fit, a different estimator, leaves the interval in some weeks.
    full = channel_kpis(mmm.models_["observed"], mmm.spend_)["contribution"].T.ravel()
    c = res.contributions[res.contributions["variant"] == "observed"]
    assert ((full < c["lower"].to_numpy()) | (full > c["upper"].to_numpy())).any()


@pytest.mark.parametrize("method", [pytest.param("percentile", marks=pytest.mark.slow), "basic"])
def test_summaries_equal_numpy_on_the_ensemble(method):
    _, mmm = _fit(5, method=method, bootstrap=5)
    res = mmm.kpis()
    spend = mmm.spend_
    mult = np.linspace(0.0, mmm.config.response_max, 21)
    for variant, full_model in mmm.models_.items():
        full = channel_kpis(full_model, spend, mult)
        reps = [channel_kpis(b, spend, mult) for b in mmm.boot_[variant]]
        assert len(reps) == 5

        def oracle(key, full=full, reps=reps):
            stack = np.stack([r[key] for r in reps])
            ens = 2 * full[key][None] - stack if method == "basic" else stack
            return np.median(ens, axis=0), np.percentile(ens, 5, axis=0), np.percentile(ens, 95, axis=0)

        s = res.summary[res.summary["variant"] == variant]
        for key, cols in (("roi", ("roi", "roi_lower", "roi_upper")), ("mroi", ("mroi", "mroi_lower", "mroi_upper"))):
            for got, want in zip(cols, oracle(key)):
                np.testing.assert_allclose(s[got].to_numpy(), want, rtol=1e-12, atol=1e-12)
        # Weekly contributions (long table: channel-major) and response curves.
        c = res.contributions[res.contributions["variant"] == variant]
        for got, want in zip(("contribution", "lower", "upper"), oracle("contribution")):
            np.testing.assert_allclose(c[got].to_numpy(), want.T.ravel(), rtol=1e-12, atol=1e-9)
        r = res.response[res.response["variant"] == variant]
        for got, want in zip(("contribution", "lower", "upper"), oracle("curve")):
            np.testing.assert_allclose(r[got].to_numpy(), want.ravel(), rtol=1e-12, atol=1e-9)


def test_ensemble_estimate_against_numpy_and_edge_cases(rng):
    full = rng.normal(size=(3, 4))
    refits = full + rng.normal(size=(50, 3, 4))
    for method, ens in (("percentile", refits), ("basic", 2 * full - refits)):
        est = ensemble_estimate(full, refits, interval=0.8, method=method)
        np.testing.assert_allclose(est.point, np.median(ens, axis=0), rtol=1e-12)
        np.testing.assert_allclose(est.lower, np.percentile(ens, 10, axis=0), rtol=1e-12)
        np.testing.assert_allclose(est.upper, np.percentile(ens, 90, axis=0), rtol=1e-12)
        assert (est.lower <= est.point).all() and (est.point <= est.upper).all()
    # No refits: the full fit, no interval. NaN refits (no spend) are skipped.
    est = ensemble_estimate(full, None)
    np.testing.assert_array_equal(est.point, full)
    assert np.isnan(est.lower).all() and np.isnan(est.upper).all()
    with_nan = refits.copy()
    with_nan[:10, 0, 0] = np.nan
    est = ensemble_estimate(full, with_nan)
    assert est.point[0, 0] == pytest.approx(np.median(refits[10:, 0, 0]), rel=1e-12)
    with pytest.raises(ValueError, match="'bayesian'"):
        ensemble_estimate(full, refits, method="bayesian")


def test_augmentation_spread_is_the_roi_sd_over_draws_at_fixed_weights():
    _, mmm = _fit(6, bootstrap=2, draws=3)
    s = mmm.kpis().summary.set_index(["variant", "channel"])
    draws = mmm.draws_["augmented"]
    assert len(draws) == 4 and draws[0] is mmm.models_["augmented"]
    rois = np.stack([channel_kpis(d, mmm.spend_)["roi"] for d in draws])
    want = rois.std(axis=0, ddof=1)
    np.testing.assert_allclose(s.loc["augmented", "roi_aug_sd"].to_numpy(), want, rtol=1e-12)
    assert (want > 0).all()  # the draws do differ
    assert s.loc["observed", "roi_aug_sd"].isna().all()  # no augmentation, no draw


def test_coverage_table_is_consistent_with_its_truth():
    t = interval_coverage(2, weeks=30, channels=3, bootstrap=2, model="linear", augmentation_draws=0)
    assert len(t) == 2 * 2 * 2 * 3  # markets x variants x methods x channels
    for m in (0, 1):
        sim = simulate(weeks=30, channels=3, seed=m)
        part = t[t["market"] == m]
        np.testing.assert_allclose(part["true_roi"], sim.roi.reindex(part["channel"]).to_numpy())
    covered = (t["roi_lower"] <= t["true_roi"]) & (t["true_roi"] <= t["roi_upper"])
    pd.testing.assert_series_equal(t["covered"], covered, check_names=False)
    s = coverage_summary(t).set_index(["variant", "method"])
    want = t.groupby(["variant", "method"])["covered"].mean()
    pd.testing.assert_series_equal(s["coverage"].sort_index(), want.sort_index(), check_names=False)
    assert (s["pairs"] == 6).all()


def test_summary_table_prints_full_channel_names():
    from rich.console import Console

    from causalda_jax.mmm._cli import summary_tables

    names = ["display_programmatic_video", "connected_tv_streaming", "paid_social_instagram"]
    rows = [
        {"variant": v, "channel": c, "spend_share": 0.3, "effect_share": 0.3, "roi": 1.234, "roi_lower": 1.0,
         "roi_upper": 1.5, "roi_aug_sd": 0.05 if v == "augmented" else np.nan, "mroi": 0.9}
        for v in ("augmented", "observed") for c in names
    ]
    tables, legend = summary_tables(pd.DataFrame(rows), refits=20)
    assert len(tables) == 2

    def render(width):
        console = Console(width=width, record=True, color_system=None)
        for table in tables:
            console.print(table)
        return console.export_text().splitlines()

    wide = render(120)
    for name in names:
        assert sum(name in line for line in wide) == 2  # once per variant, on one line
    lines = render(80)  # the width of a plain terminal (and of CliRunner)
    assert not any("…" in line for line in lines)
    assert all(len(line) <= 80 for line in lines)
    assert sum("[1, 1.5]" in line for line in lines) == 6  # numbers print whole
    # A long name wraps onto more lines: reading down the channel column gives it back in full.
    column, body = "", False
    for line in lines:
        body = (body or line.strip().startswith("─")) and bool(line.strip())
        if body and not line.strip().startswith("─"):
            column += line.split()[0]
    assert column == "".join(names * 2)
    assert any("not model error" in line for line in legend)


def test_config_rejects_bad_interval_settings():
    with pytest.raises(ValueError, match="'interval_method' must be one of .*'percentile'.*got 'bca'"):
        MMMConfig(target="sales", channels=("tv",), interval_method="bca")
    with pytest.raises(ValueError, match="augmentation_draws must be a non-negative integer; got -1"):
        MMMConfig(target="sales", channels=("tv",), augmentation_draws=-1)
