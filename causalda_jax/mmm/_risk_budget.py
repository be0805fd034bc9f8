"""A budget that weighs the model's uncertainty: expected sales over the bootstrap refits."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ._budget import allocate_search
from ._summary import allocation_lift

__all__ = ["RiskAwareBudget", "risk_aware_budget"]


class RiskAwareBudget(NamedTuple):
    """An allocation chosen for expected sales over an ensemble of refits.

    Attributes:
        table: ``channel, current_spend, optimal_spend, change, change_percent``.
        expected_lift: mean lift of the allocation over the ensemble.
        lift_interval: central ``interval`` range of the lift over the ensemble.
        probability: share of the ensemble in which the allocation beats the current one.
        reliable: ``probability >= confidence``; otherwise the report says "no reliable gain".
        draws: the lift under each refit.
        confidence: the threshold used.
        truth_lift: the true lift of the allocation when a simulation is given, else None.
    """

    table: pd.DataFrame
    expected_lift: float
    lift_interval: tuple
    probability: float
    reliable: bool
    draws: np.ndarray
    confidence: float
    truth_lift: float | None = None


def risk_aware_budget(
    mmm, *, confidence: float = 0.8, interval: float = 0.9, truth=None, rounds: int = 12, candidates: int = 48
) -> RiskAwareBudget:
    """Reallocate the current total to maximise predicted sales averaged over the bootstrap refits.

    Each refit of the main variant (Bayesian bootstrap weights on the weeks) is one draw of the
    response; the search (:func:`allocate_search`) maximises the mean of their predicted totals
    within the config's bounds. The lift of the result under each refit gives the expected lift,
    its interval and the probability that the move beats the current allocation.

    Args:
        mmm: a fitted :class:`MarketingMixModel` with bootstrap refits.
        confidence: the probability of beating the current allocation needed to call the gain reliable.
        interval: coverage of the reported lift range.
        truth: a :class:`SimulatedMMM` to score the allocation exactly.
        rounds, candidates: search effort (see :func:`allocate_search`).

    Raises:
        ValueError: fewer than two bootstrap refits, or a threshold outside (0, 1).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    cfg = mmm.config
    models = list(mmm.boot_.get(mmm.main_variant, ()))
    if len(models) < 2:
        raise ValueError(f"a risk-aware budget needs bootstrap refits; the model has {len(models)}. Set bootstrap >= 10")
    spend = mmm.spend_
    channels = list(cfg.channels)
    current = spend.sum(axis=0)
    spec = cfg.bounds_for(channels)
    lower = np.array([spec[c][0] for c in channels]) * current
    upper = np.array([spec[c][1] for c in channels]) * current

    def expected(alloc: np.ndarray) -> np.ndarray:
        alloc = np.atleast_2d(alloc)
        mult = np.divide(alloc, current, out=np.ones_like(alloc), where=current > 0)
        scenarios = spend[None] * mult[:, None, :]
        return np.mean([m.predict(scenarios).sum(axis=1) for m in models], axis=0)

    alloc = allocate_search(expected, float(current.sum()), lower, upper, init=current, seed=cfg.seed,
                            rounds=rounds, candidates=candidates)
    draws = allocation_lift(models, spend, alloc)
    lo, hi = np.percentile(draws, [50 * (1 - interval), 50 * (1 + interval)])
    prob = float(np.mean(draws > 0))
    truth_lift = None
    if truth is not None:
        mult = np.divide(alloc, current, out=np.ones_like(alloc), where=current > 0)
        truth_lift = float(truth.true_sales(spend * mult).sum() - truth.true_sales(spend).sum())
    table = pd.DataFrame({
        "channel": channels, "current_spend": current, "optimal_spend": alloc, "change": alloc - current,
        "change_percent": 100 * (alloc - current) / np.where(current > 0, current, np.nan),
    })
    return RiskAwareBudget(table, float(draws.mean()), (float(lo), float(hi)), prob, prob >= confidence, draws,
                           float(confidence), truth_lift)
