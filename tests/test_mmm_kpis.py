"""KPIs on response models whose answers are known in closed form."""

import numpy as np
import pandas as pd
import pytest

from causalda_jax.mmm import MarketingMixModel, ResponseModel, channel_kpis, simulate
from mmm_oracle import loop_adstock


@pytest.fixture
def linear_system(rng):
    """y = 5 + beta . adstock(spend) + gamma * m,  m = m_obs with m = 2 * adstock(tv) + residual."""
    t = 30
    spend = rng.gamma(2.0, 3.0, size=(t, 2))
    decay = np.array([0.6, 0.2])
    stock = loop_adstock(spend, decay)
    resid = rng.normal(size=t)
    m = 2.0 * stock[:, 0] + resid
    beta, gamma = np.array([1.5, 0.4]), 0.7
    feats = pd.DataFrame({"tv": stock[:, 0], "radio": stock[:, 1], "m": m, "y": 5 + stock @ beta + gamma * m})
    model = ResponseModel(
        features=feats, channels=("tv", "radio"), decays=decay, target="y", target_inputs=("tv", "radio", "m"),
        mediator_inputs={"m": ("tv",)},
        predictors={"y": lambda X: 5 + X[:, :2] @ beta + gamma * X[:, 2], "m": lambda X: 2.0 * X[:, 0]},
    )
    return model, spend, stock, beta, gamma


def test_contributions_roi_and_curves_match_closed_forms(linear_system):
    model, spend, stock, beta, gamma = linear_system
    k = channel_kpis(model, spend, multipliers=[0.0, 0.5, 1.0, 2.0])
    # Total effect of TV: direct + through the mediator (2 * gamma per unit of adstock).
    total_coef = np.array([beta[0] + 2.0 * gamma, beta[1]])
    np.testing.assert_allclose(k["contribution"], stock * total_coef, rtol=1e-10)
    roi = (stock * total_coef).sum(axis=0) / spend.sum(axis=0)
    np.testing.assert_allclose(k["roi"], roi, rtol=1e-10)
    # Linear response: marginal ROI equals ROI, and the curve is linear in the multiplier.
    np.testing.assert_allclose(k["mroi"], roi, rtol=1e-8)
    np.testing.assert_allclose(k["curve"], np.outer(roi * spend.sum(axis=0), [0.0, 0.5, 1.0, 2.0]), rtol=1e-10)


def test_carry_over_counts_in_later_weeks(linear_system):
    model, spend, stock, beta, gamma = linear_system
    only_first = np.zeros_like(spend)
    only_first[0] = [10.0, 0.0]
    contribution = channel_kpis(model, only_first + 1e-12)["contribution"][:, 0]
    expected = (beta[0] + 2 * gamma) * 10.0 * 0.6 ** np.arange(len(spend))
    np.testing.assert_allclose(contribution, expected, rtol=1e-6, atol=1e-8)


def test_model_with_true_graph_and_linear_fit_recovers_a_linear_truth(rng):
    """A linear simulated mix: the ridge model on the true adstock gives the true ROI."""
    t = 120
    dates = pd.date_range("2022-01-02", periods=t, freq="W-SUN")
    spend = rng.gamma(3.0, 2.0, size=(t, 3))
    decay = np.array([0.5, 0.3, 0.0])
    stock = loop_adstock(spend, decay)
    beta = np.array([0.8, 1.5, 0.3])
    price = rng.normal(10, 0.5, t)
    y = 50 + stock @ beta - 2 * price + rng.normal(0, 0.01, t)
    data = pd.DataFrame({"date": dates, "y": y, "a": spend[:, 0], "b": spend[:, 1], "c": spend[:, 2], "price": price})
    mmm = MarketingMixModel(target="y", channels=("a", "b", "c"), controls=("price",), seasonality=False,
                            adstock={"a": 0.5, "b": 0.3, "c": 0.0}, augmentation="none", bootstrap=3,
                            model="linear", graph={"directed": [["price", "y"], ["a", "y"], ["b", "y"], ["c", "y"]]})
    res = mmm.fit(data).kpis()
    true_roi = (stock * beta).sum(axis=0) / spend.sum(axis=0)
    np.testing.assert_allclose(res.summary["roi"], true_roi, rtol=1e-3)
    assert (res.summary["roi_lower"] <= res.summary["roi"] + 1e-9).all()
    assert list(res.contributions.columns) == ["date", "variant", "channel", "contribution", "lower", "upper"]
    assert res.response.groupby("channel")["current"].sum().eq(1).all()


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_kpis_with_truth_table(tmp_path):
    sim = simulate(weeks=60, channels=3, seed=2)
    mmm = MarketingMixModel(target="sales", channels=sim.channels, controls=("price", "promo"),
                            mediators=("branded_search",), graph=sim.graph.to_dict(), augmentation="none",
                            bootstrap=0, model="linear")
    res = mmm.fit(sim.data).kpis(truth=sim)
    assert set(res.truth["channel"]) == {*sim.channels, "all"}
    row = res.truth.query("channel == 'tv'").iloc[0]
    assert row["roi_abs_error"] == pytest.approx(abs(row["roi"] - sim.roi["tv"]))
    paths = res.to_csv(tmp_path)
    assert {p.split("/")[-1] for p in paths} == {"contributions.csv", "summary.csv", "response.csv", "fit.csv", "truth.csv"}
    budget = mmm.optimize_budget(truth=sim)
    assert budget.table["optimal_spend"].sum() == pytest.approx(budget.table["current_spend"].sum(), rel=1e-4)
    assert (budget.table["optimal_spend"] >= budget.table["lower"] - 1e-3).all()
    assert (budget.table["optimal_spend"] <= budget.table["upper"] + 1e-3).all()
    assert "truth" in budget.checks
