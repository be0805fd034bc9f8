"""The summary at the top of the report: the lift of a move under each refit, and what it says."""

import numpy as np
import pandas as pd
import pytest

from causalda_jax.mmm import (
    MarketingMixModel,
    ResponseModel,
    allocation_lift,
    coherence_checks,
    diagnostics,
    simulate,
    summarize_run,
)


def test_allocation_lift_is_exact_for_a_linear_response():
    rng = np.random.default_rng(0)
    spend = rng.gamma(2.0, 10.0, size=(30, 3))
    coefs = [np.array([0.5, 1.0, 2.0]), np.array([1.5, -0.2, 0.1])]
    feats = pd.DataFrame(spend, columns=["a", "b", "c"]).assign(y=0.0)
    models = [ResponseModel(feats, ("a", "b", "c"), np.zeros(3), "y", ("a", "b", "c"), {},
                            {"y": lambda X, w=w: X @ w}) for w in coefs]
    totals = spend.sum(axis=0)
    alloc = totals * np.array([0.5, 1.2, 1.3])
    # Oracle: with no carry-over and a linear response, lift = sum_j w_j * (alloc_j - total_j).
    expected = [float(w @ (alloc - totals)) for w in coefs]
    np.testing.assert_allclose(allocation_lift(models, spend, alloc), expected, rtol=1e-12)
    assert allocation_lift([], spend, alloc).shape == (0,)


@pytest.fixture(scope="module")
def run():
    sim = simulate(weeks=60, channels=3, seed=2)
    mmm = MarketingMixModel(
        target="sales", channels=sim.channels, controls=("price", "promo"), mediators=("branded_search",),
        graph=sim.graph.to_dict(), augmentation="none", bootstrap=10, model="linear", budget_method="search",
    ).fit(sim.data)
    res = mmm.kpis()
    budget = mmm.optimize_budget(truth=sim)
    diag = diagnostics(mmm)
    return mmm, res, budget, diag, coherence_checks(res, mmm.config, variant="observed", diagnostics=diag), sim


def test_summary_states_the_move_its_odds_and_the_truth(run):
    mmm, res, budget, diag, coh, sim = run
    s = summarize_run(mmm, res, budget, diag, coh, truth=sim)
    draws = allocation_lift(mmm.boot_["observed"], mmm.spend_, budget.table["optimal_spend"].to_numpy())
    np.testing.assert_allclose(s.lift_draws, draws, rtol=1e-12)
    assert len(draws) == 10
    moved = budget.table.loc[budget.table["change_percent"].abs() >= 5, "channel"]
    if budget.lift > 0 and len(moved):
        assert s.action.startswith("Shift budget")
        assert all(c in s.action for c in moved)
        paid = int((draws > 0).sum())
        text = " ".join(s.confidence)
        assert f"it pays off in {paid} of 10" in text
        assert s.sure == (paid >= 8)  # no other variant to disagree without augmentation
        assert text.startswith("Consistent, not proven" if s.sure else "Not sure")
    else:
        assert s.action.startswith("Keep the current allocation") and not s.sure
    assert "ground truth the move changes sales by" in " ".join(s.confidence)
    # Spend pushed past the largest observed week is named, with the share of weeks affected.
    unknowns = " ".join(s.unknowns)
    for j, r in enumerate(budget.table.itertuples()):
        m, col = r.optimal_spend / r.current_spend, mmm.spend_[:, j]
        share = np.mean(m * col > col.max())
        if m > 1.05 and share > 0:
            assert f"{r.channel} in {100 * share:.0f}% of weeks" in unknowns
    assert s.unknowns[-1].startswith("Whether the model's form is right")


def test_too_few_refits_are_never_sure(run):
    mmm, res, budget, diag, coh, _ = run
    boots = mmm.boot_
    mmm.boot_ = {k: v[:3] for k, v in boots.items()}
    try:
        s = summarize_run(mmm, res, budget, diag, coh)
    finally:
        mmm.boot_ = boots
    assert not s.sure and len(s.lift_draws) == 3
    if s.action.startswith("Shift"):
        assert s.confidence[0].startswith("Not sure (only 3 bootstrap refits)")


def test_a_holdout_worse_than_the_mean_is_never_sure(run):
    from causalda_jax.mmm import HoldoutResult, RiskAwareBudget

    mmm, res, budget, diag, coh, _ = run
    table = budget.table[["channel", "current_spend"]].assign(optimal_spend=budget.table["current_spend"] * [1.2, 0.9, 0.9])
    table = table.assign(change=table["optimal_spend"] - table["current_spend"],
                         change_percent=100 * (table["optimal_spend"] / table["current_spend"] - 1))
    risk = RiskAwareBudget(table, 50.0, (10.0, 90.0), 1.0, True, np.full(20, 50.0), 0.8)

    def holdout(r2):
        scores = pd.DataFrame({"variant": ["observed"], "split": ["holdout"], "weeks": [13], "mape": [0.04],
                               "r2": [r2], "nrmse": [0.2]})
        return HoldoutResult(scores, pd.DataFrame())

    good = summarize_run(mmm, res, budget, diag, coh, holdout=holdout(0.5), risk=risk)
    assert good.sure and good.confidence[0].startswith("Consistent, not proven: the refits agree")
    assert good.action.startswith("Shift budget: cut")
    bad = summarize_run(mmm, res, budget, diag, coh, holdout=holdout(-0.1), risk=risk)
    assert not bad.sure and bad.confidence[0].startswith("Not sure")
    assert "no better than those weeks' own mean" in " ".join(bad.confidence)
    split = np.r_[np.full(12, 50.0), np.full(8, -10.0)]
    unreliable = summarize_run(mmm, res, budget, diag, coh,
                               risk=risk._replace(reliable=False, probability=0.6, draws=split))
    assert unreliable.action.startswith("No reliable gain: keep the current allocation") and not unreliable.sure
    assert "beats the current one in 12 of 20 bootstrap refits, below the 80% asked for" in unreliable.action
