"""Robustness diagnostics against statsmodels (VIF, WLS with HC1 errors) on weighted data."""

import copy

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from causalda_jax.mmm import (
    MarketingMixModel,
    diagnostics,
    robust_wls,
    simulate,
    variance_inflation,
    weighted_correlation,
)

RTOL = 1e-8  # float64 throughout; both sides solve the same least-squares problems


def _collinear(seed=0, n=150):
    rng = np.random.default_rng(seed)
    a = rng.gamma(2.0, 1.0, n)
    b = 0.8 * a + 0.4 * rng.gamma(2.0, 1.0, n)
    c = rng.normal(size=n)
    x = np.column_stack([a, b, c])
    # Heteroskedastic noise, so HC1 differs from the classical errors.
    y = 1.0 + 0.5 * a + 1.5 * b - 0.3 * c + (0.2 + 0.5 * a) * rng.normal(size=n)
    w = rng.exponential(size=n)
    return x, y, w


def test_vif_matches_statsmodels_unweighted():
    x, _, _ = _collinear()
    exog = sm.add_constant(x)
    expected = [variance_inflation_factor(exog, j) for j in range(1, exog.shape[1])]
    np.testing.assert_allclose(variance_inflation(x), expected, rtol=RTOL)
    assert variance_inflation(x)[0] > 2.0  # the collinear pair is inflated


def test_vif_matches_statsmodels_on_weighted_rows():
    # VIF_j = 1 / (1 - R²_j) of the weighted regression of column j on the others with an intercept.
    x, _, w = _collinear(1)
    for j in range(x.shape[1]):
        r2 = sm.WLS(x[:, j], sm.add_constant(np.delete(x, j, axis=1)), weights=w).fit().rsquared
        np.testing.assert_allclose(variance_inflation(x, w)[j], 1 / (1 - r2), rtol=RTOL)
    assert not np.allclose(variance_inflation(x, w), variance_inflation(x), rtol=1e-3)
    # Integer weights = repeated rows.
    k = np.arange(len(x)) % 3 + 1
    np.testing.assert_allclose(variance_inflation(x, k), variance_inflation(np.repeat(x, k, axis=0)), rtol=RTOL)


def test_vif_edge_cases():
    x = np.column_stack([np.arange(10.0), 2 * np.arange(10.0) + 1, np.ones(10)])
    v = variance_inflation(x)
    assert np.isinf(v[0]) and np.isinf(v[1]) and np.isnan(v[2])
    with pytest.raises(ValueError, match="one entry per row"):
        variance_inflation(x, np.ones(3))


def test_weighted_correlation_matches_numpy_and_repeats():
    x, _, w = _collinear(2)
    np.testing.assert_allclose(weighted_correlation(x), np.corrcoef(x, rowvar=False), rtol=1e-10)
    k = np.arange(len(x)) % 4 + 1
    np.testing.assert_allclose(weighted_correlation(x, k), np.corrcoef(np.repeat(x, k, axis=0), rowvar=False),
                               rtol=1e-10)
    cov = np.cov(x, rowvar=False, aweights=w)
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(weighted_correlation(x, w), cov / np.outer(sd, sd), rtol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_robust_wls_matches_statsmodels_hc1(weighted):
    x, y, w = _collinear(3)
    w = w if weighted else None
    fit = robust_wls(y, x, w)
    ref = sm.WLS(y, sm.add_constant(x), weights=np.ones(len(y)) if w is None else w).fit(cov_type="HC1", use_t=True)
    np.testing.assert_allclose(fit.coef, ref.params, rtol=RTOL)
    np.testing.assert_allclose(fit.std_error, ref.bse, rtol=RTOL)
    np.testing.assert_allclose(fit.t, ref.tvalues, rtol=RTOL)
    np.testing.assert_allclose(fit.p_value, ref.pvalues, rtol=1e-6, atol=1e-300)
    assert fit.df_resid == ref.df_resid
    np.testing.assert_allclose(fit.r_squared, ref.rsquared, rtol=RTOL)
    # HC1 is not the classical covariance here (heteroskedastic noise).
    classical = sm.WLS(y, sm.add_constant(x), weights=np.ones(len(y)) if w is None else w).fit()
    assert np.max(np.abs(fit.std_error / classical.bse - 1)) > 0.05


def test_robust_wls_rejects_bad_input():
    with pytest.raises(ValueError, match="needs more than 3 rows"):
        robust_wls(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        robust_wls(np.arange(5.0), np.arange(5.0)[:, None], -np.ones(5))


@pytest.fixture(scope="module")
def fitted():
    sim = simulate(weeks=60, channels=3, seed=0)
    mmm = MarketingMixModel(
        target="sales", channels=sim.channels, controls=("price", "promo"), mediators=("branded_search",),
        graph=sim.graph.to_dict(), augmentation="sample", bootstrap=0, model="linear",
    ).fit(sim.data)
    return mmm, diagnostics(mmm)


@pytest.mark.slow
def test_diagnostics_of_a_fitted_model_match_statsmodels(fitted):
    mmm, d = fitted
    obs = mmm.features_
    terms = ["trend", "season_sin", "season_cos", "price", "promo", *mmm.config.channels]
    assert d.vif["term"].tolist() == terms
    assert set(d.regression["variant"]) == {"observed", "augmented"}
    table = pd.concat([obs, mmm.augmented_rows_], ignore_index=True)
    w = np.r_[np.ones(len(obs)), mmm.augmented_weights_]
    assert len(table) == len(w) == 3 * len(obs)
    for name, frame, weights in (("observed", obs, np.ones(len(obs))), ("augmented", table, w)):
        exog = sm.add_constant(frame[terms].to_numpy())
        ref = sm.WLS(frame["sales"].to_numpy(), exog, weights=weights).fit(cov_type="HC1", use_t=True)
        got = d.regression.query("variant == @name and form == 'linear'")
        np.testing.assert_allclose(got["coef"], ref.params, rtol=1e-7)
        np.testing.assert_allclose(got["std_error"], ref.bse, rtol=1e-7)
        np.testing.assert_allclose(got["p_value"], ref.pvalues, rtol=1e-5, atol=1e-300)
        # Elasticity at the mean spend of a linear fit: b * mean(x) / mean(y).
        tv = got.set_index("term").loc["tv"]
        mx = np.average(frame["tv"], weights=weights)
        my = np.average(frame["sales"], weights=weights)
        np.testing.assert_allclose(tv["elasticity"], tv["coef"] * mx / my, rtol=1e-12)
        # Log-log: the channel's coefficient is d log y / d log(x + offset).
        log = d.regression.query("variant == @name and form == 'log-log'").set_index("term")
        xl = frame[terms].to_numpy().copy()
        for j, t in enumerate(terms):
            if t in mmm.config.channels:
                xl[:, j] = np.log(xl[:, j] + 0.01 * obs[t].mean())
        ref_log = sm.WLS(np.log(frame["sales"].to_numpy()), sm.add_constant(xl), weights=weights).fit(
            cov_type="HC1", use_t=True)
        np.testing.assert_allclose(log["coef"], ref_log.params, rtol=1e-7)
        np.testing.assert_allclose(log["std_error"], ref_log.bse, rtol=1e-7)
        exog_vif = sm.add_constant(frame[terms].to_numpy())
        if name == "observed":
            expected = [variance_inflation_factor(exog_vif, j) for j in range(1, exog_vif.shape[1])]
            np.testing.assert_allclose(d.vif["observed"], expected, rtol=1e-8)
    assert np.isnan(d.regression.set_index("term").loc["trend", "elasticity"]).all()
    assert any("branded_search" in n for n in d.notes)


@pytest.mark.slow
def test_diagnostics_csv_and_no_augmentation(fitted, tmp_path):
    mmm, d = fitted
    paths = d.to_csv(tmp_path)
    assert {p.rsplit("/", 1)[-1] for p in paths} == {
        "vif.csv", "regression.csv", "correlation_observed.csv", "correlation_augmented.csv"}
    back = pd.read_csv(tmp_path / "correlation_augmented.csv", index_col=0)
    np.testing.assert_allclose(back.to_numpy(), d.correlation["augmented"].to_numpy(), rtol=1e-12)
    mmm = copy.copy(mmm)  # the module's fitted model stays as it was
    mmm.augmented_rows_ = mmm.augmented_weights_ = None  # as after a fit with augmentation="none"
    bare = diagnostics(mmm)
    assert set(bare.regression["variant"]) == {"observed"} and bare.vif["augmented"].isna().all()
    np.testing.assert_allclose(bare.vif["observed"], d.vif["observed"], rtol=1e-12)
