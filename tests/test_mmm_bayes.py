"""The Bayesian marketing mix model: closed-form posterior, calibration on a simulated grid, weights, lift tests, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from causalda_jax.mmm import MarketingMixModel, MMMConfig, simulate
from causalda_jax.mmm._bayes import (
    BayesData,
    Equation,
    ModelSpec,
    model_inputs,
    normalised_stock,
    posterior_weights,
    sample_posterior,
)
from causalda_jax.mmm._data import feature_table, validate_weekly
from causalda_jax.mmm._model import grid_decays, structure_of
from causalda_jax.mmm._transforms import hill

# A linear-Gaussian special case: decays, saturation and noise fixed, Normal priors on the
# intercept and coefficients, HalfNormal on the effects (whose posterior sits > 10 sd from 0,
# so the truncation carries no mass): the posterior is the conjugate Gaussian.
FIXED = {"decay": np.array([0.5, 0.2]), "half_saturation": np.array([1.0, 0.8]), "slope": np.array([1.0, 1.5])}
SIGMA = 0.05
TRUTH = np.array([0.3, 0.5, -0.4, 1.5, 1.0])  # intercept, coef (2), beta (2)


def _linear_gaussian(n=100, n_aug=60, seed=0):
    rng = np.random.default_rng(seed)
    spend = rng.gamma(3.0, size=(n, 2)) / 3.0
    z_lin = rng.normal(size=(n + n_aug, 2))
    stock_aug = rng.gamma(3.0, size=(n_aug, 2)) / 3.0
    h = np.asarray(
        np.concatenate(
            [hill(normalised_stock(jnp.asarray(spend), FIXED["decay"]), FIXED["half_saturation"], FIXED["slope"]),
             hill(jnp.asarray(stock_aug), FIXED["half_saturation"], FIXED["slope"])]
        ),
        np.float64,
    )
    y = TRUTH[0] + z_lin @ TRUTH[1:3] + h @ TRUTH[3:] + rng.normal(0, SIGMA, n + n_aug)
    weight = np.r_[np.ones(n), rng.uniform(0.2, 1.0, n_aug)]
    data = BayesData(
        z=jnp.asarray(np.column_stack([y, z_lin])), spend=jnp.asarray(spend), stock_aug=jnp.asarray(stock_aug),
        weight=jnp.asarray(weight), spend_total=jnp.asarray(spend.sum(0)), target_scale=jnp.asarray(1.0),
        lift_mask=jnp.zeros((0, n)), lift_channel=jnp.zeros(0, jnp.int32), lift_value=jnp.zeros(0), lift_sd=jnp.ones(0),
    )
    spec = ModelSpec((Equation("y", 0, (1, 2), (0, 1)),), n_channels=2)
    # Conjugate posterior of (intercept, coef, beta) with weighted Gaussian likelihood.
    X = np.column_stack([np.ones(n + n_aug), z_lin, h])
    prior_prec = np.diag([1 / 2.0**2, 1.0, 1.0, 1.0, 1.0])
    prec = X.T @ (weight[:, None] * X) / SIGMA**2 + prior_prec
    cov = np.linalg.inv(prec)
    mean = cov @ (X.T @ (weight * y)) / SIGMA**2
    return data, spec, mean, cov


def _stack(samples):
    return np.column_stack([samples["y.intercept"], samples["y.coef"], samples["y.beta"]])


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_map_laplace_matches_the_conjugate_posterior(x64):
    data, spec, mean, cov = _linear_gaussian()
    fixed = {**FIXED, "y.sigma": SIGMA}
    post = sample_posterior(data, spec, key=jax.random.key(1), method="map", draws=4000, steps=3000, fixed=fixed)
    draws = _stack(post.samples)
    sd = np.sqrt(np.diag(cov))
    assert np.all(mean[3:] / sd[3:] > 10)  # the HalfNormal truncation is irrelevant
    # The Gaussian sits on log(beta): its mode and mean are off by about 1.5 sd^2/beta
    # (0.05 sd here), hence 0.1 sd on top of the Monte Carlo error.
    se = sd / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0) - mean) < 0.1 * sd + 4 * se), (draws.mean(0), mean)
    assert np.allclose(draws.std(0), sd, rtol=0.1), (draws.std(0), sd)
    corr = np.corrcoef(draws.T)
    assert np.allclose(corr, cov / np.outer(sd, sd), atol=0.08)
    assert post.diagnostics.warnings == ()


def _coverage_band(k: int, level: float, alpha: float) -> tuple[int, int]:
    """Acceptance band of a count of covered truths among ``k`` independent datasets.

    With calibrated ``level`` intervals the count is Binomial(k, level); the band keeps the
    central ``1 - alpha`` of that law (``alpha / 2`` in each tail), so a calibrated method
    falls outside it with probability at most ``alpha``.
    """
    from scipy.stats import binom

    return int(binom.ppf(alpha / 2, k, level)), int(binom.isf(alpha / 2, k, level))


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_laplace_intervals_are_calibrated_on_a_simulated_grid(x64):
    # A grid of small simulated markets from the linear-Gaussian case (same truth, new spends,
    # controls and noise each time, no augmented rows): with the priors' pull negligible next to
    # 100 weeks of data, the 90% credible intervals are 90% confidence intervals, so whether
    # each covers the truth is a Bernoulli(0.9) draw, independent across markets. The ROI of a
    # channel is beta times a constant here (decays and saturation fixed), so beta's coverage is
    # the ROI's. Each of the 4 parameters is judged on its own count (the parameters of one
    # market share the data, so they are not pooled), with a Bonferroni split of alpha = 0.002
    # over them: a calibrated method fails this test with probability <= 0.002.
    markets, level = 60, 0.9
    fixed = {**FIXED, "y.sigma": SIGMA}
    covered, shrunk = np.zeros((markets, 4), bool), np.zeros((markets, 4), bool)
    for m in range(markets):
        data, spec, _, _ = _linear_gaussian(n=100, n_aug=0, seed=100 + m)
        post = sample_posterior(data, spec, key=jax.random.key(m), method="map", draws=2000, steps=1500, fixed=fixed)
        draws = _stack(post.samples)[:, 1:]
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        covered[m] = (lo <= TRUTH[1:]) & (TRUTH[1:] <= hi)
        # Power check: the same intervals shrunk 5x about their centre must be rejected.
        mid, half = (lo + hi) / 2, (hi - lo) / 10
        shrunk[m] = (mid - half <= TRUTH[1:]) & (TRUTH[1:] <= mid + half)
    low, high = _coverage_band(markets, level, 0.002 / 4)
    counts = covered.sum(axis=0)
    assert np.all((low <= counts) & (counts <= high)), (counts, (low, high))
    assert np.all(shrunk.sum(axis=0) < low), (shrunk.sum(axis=0), low)


@pytest.mark.standard_promotion("numpyro")
@pytest.mark.slow
def test_nuts_matches_the_conjugate_posterior(x64):
    data, spec, mean, cov = _linear_gaussian()
    fixed = {**FIXED, "y.sigma": SIGMA}
    post = sample_posterior(data, spec, key=jax.random.key(2), method="nuts", draws=1000, warmup=500, chains=2,
                            fixed=fixed)
    draws = _stack(post.samples)
    sd = np.sqrt(np.diag(cov))
    ess = post.diagnostics.min_ess
    assert ess > 200 and post.diagnostics.max_r_hat < 1.05 and post.diagnostics.divergences == 0
    assert np.all(np.abs(draws.mean(0) - mean) < 4.5 * sd / np.sqrt(ess)), (draws.mean(0), mean)
    assert np.allclose(draws.std(0), sd, rtol=0.12)


def test_posterior_weights_total_n_and_alpha_zero():
    w = posterior_weights(10, np.ones(30), 2.0)
    assert np.isclose(w.sum(), 10) and np.isclose(w[10:].sum() / w.sum(), 2 / 3)
    w0 = posterior_weights(10, np.ones(30), 0.0)
    assert np.allclose(w0[:10], 1.0) and np.allclose(w0[10:], 0.0)


@pytest.fixture(scope="module")
def market():
    sim = simulate(weeks=80, channels=3, seed=3)
    cfg = MMMConfig(target="sales", channels=sim.channels, controls=("price", "promo"), mediators=("branded_search",),
                    graph=sim.graph.to_dict(), augmentation="none", model="bayes", draws=100)
    return sim, cfg


@pytest.mark.standard_promotion("optax")
@pytest.mark.slow
def test_alpha_zero_reproduces_the_observed_posterior(market):
    sim, cfg = market
    weekly = validate_weekly(sim.data, cfg)
    decays = grid_decays(weekly, cfg)
    feats = feature_table(weekly, cfg, decays)
    st = structure_of(sim.graph, feats, cfg)
    spend = weekly[list(cfg.channels)].to_numpy()
    rng = np.random.default_rng(0)
    # Augmented rows that would move the fit: the observed rows, shuffled per column.
    extra = feats.apply(lambda col: rng.permutation(col.to_numpy()))
    table = pd.concat([feats, extra], ignore_index=True)

    def posterior(tab, weights):
        data, spec, _ = model_inputs(feats, tab, weights, spend, weekly["date"], st, decays, cfg)
        return sample_posterior(data, spec, key=jax.random.key(0), draws=1000, steps=1500).samples

    observed = posterior(feats, np.ones(len(feats)))
    zero = posterior(table, posterior_weights(len(feats), np.ones(len(extra)), 0.0))
    half = posterior(table, posterior_weights(len(feats), np.ones(len(extra)), 1.0))
    # Same log density up to float32 summation order: same mode, Hessian and draws, within a
    # small fraction of the posterior sd.
    for k in ("decay", "sales.beta", "branded_search.beta", "sales.coef"):
        sd = observed[k].std(0)
        np.testing.assert_array_less(np.abs(zero[k].mean(0) - observed[k].mean(0)), 0.05 * sd + 1e-6, err_msg=k)
        np.testing.assert_allclose(zero[k].std(0), sd, rtol=0.05, err_msg=k)
    moved = np.abs(half["sales.coef"].mean(0) - observed["sales.coef"].mean(0)) / observed["sales.coef"].std(0)
    assert moved.max() > 0.5


@pytest.mark.standard_promotion("optax")
@pytest.mark.slow
def test_lift_test_cuts_the_roi_error_of_the_worst_channel(market):
    sim, cfg = market
    base = MarketingMixModel(cfg).fit(sim.data).kpis(truth=sim).truth
    per = base[base["channel"] != "all"].set_index("channel")
    worst = (per["roi"] - per["true_roi"]).abs().idxmax()
    start, end = sim.data["date"].iloc[20], sim.data["date"].iloc[45]
    lift = sim.true_lift(worst, start, end)
    test = {"channel": worst, "start": start, "end": end, "lift": lift, "sd": 0.05 * abs(lift)}
    mmm = MarketingMixModel(cfg, lift_tests=[test]).fit(sim.data)
    res = mmm.kpis(truth=sim)
    after = res.truth.set_index(["variant", "channel"]).loc[("observed", worst)]
    before = per.loc[worst]
    assert abs(after["roi"] - after["true_roi"]) < 0.5 * abs(before["roi"] - before["true_roi"]), (before, after)
    check = res.lift.iloc[0]
    assert check["channel"] == worst and abs(check["z"]) < 3


@pytest.mark.parametrize(
    "override, match",
    [
        ({"roi_prior": {"print": [1.0, 0.5]}}, "roi_prior given for 'print'"),
        ({"roi_prior": {"tv": [1.0, 0.0]}}, "roi_prior for 'tv': the sd must be positive"),
        ({"roi_prior": {"tv": [-1.0, 0.5]}}, "roi_prior for 'tv': the mean must be positive"),
        ({"lift_tests": [["print", "2021-01-03", "2021-02-07", 10, 2]]}, "channel 'print' is not one of the channels"),
        ({"lift_tests": [["tv", "2021-01-03", "2021-02-07", 10, 0]]}, r"row 0 \(tv\): sd must be positive"),
        ({"lift_tests": [["tv", "2021-03-03", "2021-02-07", 10, 1]]}, "is before start"),
        ({"inference": "vi"}, "inference"),
        ({"draws": 0}, "draws must be a positive integer"),
        ({"priors": {"effct": 2.0}}, "priors must be a mapping with keys"),
        ({"priors": {"effect": -1.0}}, "priors 'effect' must be positive"),
    ],
)
def test_bad_bayes_config_names_the_problem(override, match):
    with pytest.raises(ValueError, match=match):
        MMMConfig(target="sales", channels=("tv", "radio", "social"), model="bayes", **override)


def test_lift_window_outside_the_data_is_named(market):
    sim, cfg = market
    test = ["radio", "2030-01-06", "2030-02-03", 10.0, 2.0]
    with pytest.raises(ValueError, match="lift test on 'radio' from 2030-01-06 to 2030-02-03 is outside the data"):
        MarketingMixModel(cfg, lift_tests=[test]).fit(sim.data)


def test_config_round_trip_keeps_priors_and_lift_tests():
    cfg = MMMConfig(target="sales", channels=("tv", "radio"), model="bayes", roi_prior={"tv": [1.5, 0.5]},
                    lift_tests=[{"channel": "tv", "start": "2021-01-03", "end": "2021-02-07", "lift": 30, "sd": 5}])
    again = MMMConfig.from_dict(cfg.to_dict())
    assert again.roi_prior == {"tv": (1.5, 0.5)} and again.lift_tests == cfg.lift_tests


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_workflow_reports_posterior_intervals_and_convergence(market, tmp_path):
    from causalda_jax.mmm import run_workflow

    sim, cfg = market
    out = run_workflow(sim.data, cfg, str(tmp_path), truth=sim)
    summary = out["results"].summary
    assert (summary["roi_lower"] <= summary["roi"]).all() and (summary["roi"] <= summary["roi_upper"]).all()
    assert out["convergence"]["observed"]["method"] == "map"
    page = (tmp_path / "index.html").read_text()
    assert "Convergence of the Bayesian model" in page and "credible interval" in page
    assert (tmp_path / "diagnostics.csv").exists()
