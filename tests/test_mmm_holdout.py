"""Holdout validation: refits without the last weeks, scored on them, against a hand-made refit."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_percentage_error, r2_score

from causalda_jax.mmm import MarketingMixModel, MMMConfig, feature_table, forecast_scores, holdout_validation, simulate


def test_forecast_scores_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.uniform(50, 150, 40)
    f = y + rng.normal(0, 10, 40)
    s = forecast_scores(y, f)
    assert s["mape"] == pytest.approx(mean_absolute_percentage_error(y, f), rel=1e-12)
    assert s["r2"] == pytest.approx(r2_score(y, f), rel=1e-12)
    assert s["nrmse"] == pytest.approx(np.sqrt(np.mean((y - f) ** 2)) / (y.max() - y.min()), rel=1e-12)


def test_holdout_predictions_equal_a_refit_by_hand():
    sim = simulate(weeks=70, channels=3, seed=3)
    decays = {c: 0.4 for c in sim.channels}
    mmm = MarketingMixModel(
        target="sales", channels=sim.channels, controls=("price", "promo"), mediators=("branded_search",),
        graph=sim.graph.to_dict(), augmentation="none", bootstrap=0, model="linear", adstock=decays,
    ).fit(sim.data)
    h = holdout_validation(mmm, 13)
    assert h.note is None
    # Oracle: ridge on the first 57 weeks' features, predicting the last 13 from all weeks' features
    # (adstock carries over into the held-out weeks; the trend keeps the fitted weeks' step of 1/56).
    cfg, n = mmm.config, len(sim.data)
    inputs = list(mmm.structure_.target_inputs)
    assert "trend" in inputs  # so the trend's scale matters to the predictions
    full = feature_table(mmm.weekly_, cfg, decays)
    full["trend"] = np.arange(n) / (n - 14)  # weekly dates: day offsets are 7 * week index
    train = feature_table(mmm.weekly_.iloc[: n - 13], cfg, decays)
    ridge = Ridge(alpha=1e-3).fit(train[inputs].to_numpy(), train["sales"].to_numpy())
    expected = ridge.predict(full[inputs].to_numpy())
    got = h.predictions[h.predictions["variant"] == "observed"]
    np.testing.assert_allclose(got["predicted"].to_numpy(), expected, rtol=1e-8)
    assert (got["split"].to_numpy() == np.r_[["in-sample"] * (n - 13), ["holdout"] * 13]).all()
    held = h.scores.set_index(["variant", "split"]).loc[("observed", "holdout")]
    y = mmm.weekly_["sales"].to_numpy()[-13:]
    assert held["weeks"] == 13
    assert held["mape"] == pytest.approx(mean_absolute_percentage_error(y, expected[-13:]), rel=1e-8)
    assert held["r2"] == pytest.approx(r2_score(y, expected[-13:]), rel=1e-8)


def test_too_few_weeks_or_zero_skip_with_a_note():
    sim = simulate(weeks=40, channels=3, seed=0)
    graph = {"nodes": [*sim.channels, "sales"], "directed": [[c, "sales"] for c in sim.channels]}
    mmm = MarketingMixModel(target="sales", channels=sim.channels, augmentation="none", bootstrap=0, model="linear",
                            seasonality=False, adstock={c: 0.3 for c in sim.channels}, graph=graph)
    mmm.fit(sim.data)
    h = holdout_validation(mmm, 30)
    assert h.scores.empty and "40 weeks leave 10 to fit" in h.note and "lower holdout_weeks" in h.note
    assert "holdout_weeks is 0" in holdout_validation(mmm, 0).note
    with pytest.raises(ValueError, match="holdout_weeks must be a non-negative integer"):
        MMMConfig(target="sales", channels=("tv",), holdout_weeks=-1)


@pytest.mark.standard_promotion("optax")
def test_bayesian_holdout_scores_the_posterior_mean_fit_of_a_refit():
    sim = simulate(weeks=70, channels=3, seed=3)
    cfg = dict(target="sales", channels=sim.channels, controls=("price", "promo"), mediators=("branded_search",),
               graph=sim.graph.to_dict(), augmentation="none", bootstrap=0, model="bayes", draws=50,
               adstock={c: 0.4 for c in sim.channels}, holdout_weeks=0)
    mmm = MarketingMixModel(**cfg).fit(sim.data)
    h = holdout_validation(mmm, 13)
    assert h.note is None
    # Oracle: the same model fitted by hand on the first 57 weeks, its posterior-mean fit on all weeks.
    n = len(sim.data)
    refit = MarketingMixModel(**cfg).fit(sim.data.iloc[: n - 13])
    features = feature_table(mmm.weekly_, mmm.config, refit.decays_)
    features["trend"] = np.arange(n) / (n - 14)
    expected = refit.models_["observed"].fitted(features, mmm.weekly_[list(sim.channels)].to_numpy(np.float64))
    got = h.predictions[h.predictions["variant"] == "observed"]["predicted"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    held = h.scores.set_index(["variant", "split"]).loc[("observed", "holdout")]
    y = mmm.weekly_["sales"].to_numpy()[-13:]
    assert held["mape"] == pytest.approx(mean_absolute_percentage_error(y, expected[-13:]), rel=1e-8)
    assert held["mape"] < 0.2  # a sane forecast: the simulated weekly noise is a few percent
