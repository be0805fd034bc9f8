"""Risk-aware budget on linear refits, where the best allocation and every lift are known exactly."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from causalda_jax.mmm import MMMConfig, ResponseModel, risk_aware_budget


def _fitted(coefs, seed=0, bounds=(0.5, 1.5)):
    """A stand-in for a fitted model whose refits are linear responses y = spend @ w_b (no carry-over)."""
    rng = np.random.default_rng(seed)
    spend = rng.gamma(2.0, 10.0, size=(40, 3))
    feats = pd.DataFrame(spend, columns=["a", "b", "c"]).assign(y=0.0)
    models = [ResponseModel(feats, ("a", "b", "c"), np.zeros(3), "y", ("a", "b", "c"), {},
                            {"y": lambda X, w=np.asarray(w, float): X @ w}) for w in coefs]
    cfg = MMMConfig(target="y", channels=("a", "b", "c"), budget_bounds=bounds)
    return SimpleNamespace(config=cfg, boot_={"augmented": models}, main_variant="augmented", spend_=spend)


def test_maximises_expected_sales_and_reports_exact_lifts():
    rng = np.random.default_rng(1)
    coefs = np.array([1.0, 2.0, 0.5]) + 0.1 * rng.normal(size=(20, 3))
    mmm = _fitted(coefs)
    res = risk_aware_budget(mmm, rounds=30)
    current = mmm.spend_.sum(axis=0)
    # Oracle: the expected lift is linear, so the best allocation solves a linear program.
    mean_w = coefs.mean(axis=0)
    lp = linprog(-mean_w, A_eq=np.ones((1, 3)), b_eq=[current.sum()], bounds=list(zip(0.5 * current, 1.5 * current)))
    best = float(mean_w @ (lp.x - current))
    assert res.expected_lift == pytest.approx(float(mean_w @ (res.table["optimal_spend"] - current)), rel=1e-10)
    assert res.expected_lift >= 0.97 * best
    np.testing.assert_allclose(res.table["optimal_spend"].sum(), current.sum(), rtol=1e-9)
    np.testing.assert_allclose(res.draws, coefs @ (res.table["optimal_spend"].to_numpy() - current), rtol=1e-10)
    assert res.probability == np.mean(res.draws > 0) == 1.0 and res.reliable
    lo, hi = np.percentile(res.draws, [5, 95])
    assert res.lift_interval == pytest.approx((lo, hi))


def test_no_reliable_gain_when_refits_disagree():
    # Half the refits favour b, half favour c, the mean slightly favours b: a move wins in about half.
    coefs = np.array([[1.0, 2.2, 0.0], [1.0, 0.0, 2.0]] * 10)
    res = risk_aware_budget(_fitted(coefs), rounds=30)
    assert 0.3 <= res.probability <= 0.7
    assert not res.reliable and res.confidence == 0.8
    assert res.expected_lift > 0  # the mean still gains: the threshold, not the mean, rules it out


def test_needs_refits_and_a_valid_threshold():
    with pytest.raises(ValueError, match="needs bootstrap refits; the model has 1"):
        risk_aware_budget(_fitted(np.ones((1, 3))))
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\)"):
        risk_aware_budget(_fitted(np.ones((3, 3))), confidence=1.0)
    with pytest.raises(ValueError, match=r"budget_confidence must be in \(0, 1\)"):
        MMMConfig(target="y", channels=("a",), budget_confidence=0.0)
