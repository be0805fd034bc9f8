"""The few sentences at the top of a marketing mix report: what to do, how sure, what the data could not tell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["ReportSummary", "allocation_lift", "summarize_run"]

# A move "pays off" with this share of the bootstrap refits or more: the same bar as a 80% confidence.
_SURE = 0.8
# Even a move every internal check supports is a model's prediction: on simulations with known
# answers (benchmarks/mmm_evidence.py) such moves lost true sales, so the best verdict stays modest.
_CONSISTENT = ("Consistent, not proven: the refits agree{holdout}, but a model can agree with itself and still be "
               "wrong; test the move before shifting the whole budget.")
# Fewer bootstrap refits than this cannot make a recommendation "consistent".
_MIN_REFITS = 10
# Spend changes under this many percent are reported as "keep".
_MOVE = 5.0
_HARD_VIF = 5.0


class ReportSummary(NamedTuple):
    """Plain sentences for the top of the report.

    Attributes:
        action: what to do with the budget.
        confidence: how sure the recommendation is, with the numbers behind it.
        unknowns: what the data could not tell.
        sure: True when there are at least 10 bootstrap refits, the move is reliable (with a
            risk-aware budget, by its own threshold; without, it pays off in at least 80% of the
            refits and the model fitted without augmentation agrees on its sign), and, when a
            holdout was scored, the main model beats the held-out weeks' mean (R² > 0).
        lift_draws: lift of the proposed allocation under each bootstrap refit (may be empty).
    """

    action: str
    confidence: tuple
    unknowns: tuple
    sure: bool
    lift_draws: np.ndarray


def allocation_lift(models: Sequence, spend: np.ndarray, allocation: np.ndarray) -> np.ndarray:
    """Predicted change of the total target when each channel's weekly spend is scaled to
    ``allocation`` (totals per channel), under each of ``models`` (:class:`ResponseModel`).

    Example:
        >>> from causalda_jax.mmm import ResponseModel
        >>> feats = pd.DataFrame({"tv": [1.0, 2.0], "y": [0.0, 0.0]})
        >>> m = ResponseModel(feats, ("tv",), np.zeros(1), "y", ("tv",), {}, {"y": lambda X: 3 * X[:, 0]})
        >>> allocation_lift([m], np.array([[1.0], [2.0]]), np.array([6.0])).tolist()
        [9.0]
    """
    spend = np.asarray(spend, np.float64)
    current = spend.sum(axis=0)
    mult = np.divide(allocation, current, out=np.ones_like(current), where=current > 0)
    scenarios = np.stack([spend, spend * mult])
    return np.array([float(np.diff(m.predict(scenarios).sum(axis=1))[0]) for m in models])


def _fmt(x: float) -> str:
    return f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.3g}"


def _moves(table: pd.DataFrame) -> str:
    """'cut a by 20%; raise b by 30%' for changes of at least _MOVE percent, else ''."""
    pct = table["change_percent"].fillna(0.0)
    cuts = [f"{r.channel} by {-p:.0f}%" for r, p in zip(table.itertuples(), pct) if p <= -_MOVE]
    raises = [f"{r.channel} by {p:.0f}%" for r, p in zip(table.itertuples(), pct) if p >= _MOVE]
    return "; ".join(filter(None, ["cut " + ", ".join(cuts) if cuts else "",
                                   "raise " + ", ".join(raises) if raises else ""]))


def summarize_run(mmm, results, budget, diagnostics, coherence: pd.DataFrame, truth=None, holdout=None, risk=None
                  ) -> ReportSummary:
    """What to do, how sure, and what the data could not tell, from a finished run.

    With a :class:`RiskAwareBudget` (``risk``) the recommendation is the allocation chosen for
    expected sales over the bootstrap refits, and "no reliable gain" when it beats the current
    allocation in fewer refits than its threshold; without, the main model's allocation
    (``budget``) judged by its lift under each refit.
    """
    cfg = mmm.config
    main = mmm.main_variant
    weeks = len(mmm.weekly_)
    t = budget.table
    others = {k: v for k, v in budget.checks.items() if k != "truth"}
    agree = all(np.sign(v) == np.sign(budget.lift) for v in others.values())
    conf = []
    if risk is not None:
        draws = risk.draws
        moves = _moves(risk.table)
        moved = bool(moves) and risk.expected_lift > 0 and risk.reliable
        n, k = draws.size, int((draws > 0).sum())
        if moved:
            action = (f"Shift budget: {moves}, with the total unchanged (chosen for expected {cfg.target} over {n} "
                      f"bootstrap refits). Expected lift {_fmt(risk.expected_lift)} over the {weeks} observed weeks "
                      f"(90% of refits: {_fmt(risk.lift_interval[0])} to {_fmt(risk.lift_interval[1])}).")
        else:
            action = (f"No reliable gain: keep the current allocation. The best allocation for expected "
                      f"{cfg.target} beats the current one in {k} of {n} bootstrap refits, below the "
                      f"{100 * risk.confidence:.0f}% asked for.")
        conf.append(f"It beats the current allocation in {k} of {n} refits.")
        if risk.truth_lift is not None:
            conf.append(f"Against the simulation's ground truth it changes {cfg.target} by {_fmt(risk.truth_lift)}"
                        + (": it would pay off." if risk.truth_lift > 0 else ": in this simulation it would lose sales."))
        conf.append(f"The single {main} fit's own optimum (budget section) predicts {_fmt(budget.lift)}"
                    + "".join(f"; the {name} fit predicts {_fmt(v)} for it" for name, v in others.items())
                    + (f"; the truth {_fmt(budget.checks['truth'])}" if "truth" in budget.checks else "") + ".")
        sure = moved and n >= _MIN_REFITS
    else:
        moves = _moves(t)
        moved = bool(moves) and budget.lift > 0
        if moved:
            action = (f"Shift budget: {moves}. The {main} model predicts {_fmt(budget.lift)} {cfg.target} "
                      f"({budget.lift_percent:+.1f}%) over the {weeks} observed weeks, with the total budget unchanged.")
        else:
            action = (f"Keep the current allocation: no reallocation within the bounds changes predicted {cfg.target} "
                      f"by {_MOVE:.0f}% of a channel's spend or more with a gain.")
        draws = allocation_lift(mmm.boot_.get(main, ()), mmm.spend_, t["optimal_spend"].to_numpy(np.float64))
        share = float(np.mean(draws > 0)) if draws.size else np.nan
        if draws.size:
            lo, hi = np.percentile(draws, [5, 95])
            conf.append(f"Across {draws.size} bootstrap refits the same move changes predicted {cfg.target} by "
                        f"{_fmt(lo)} to {_fmt(hi)} (90% of refits); it pays off in {int((draws > 0).sum())} of "
                        f"{draws.size}.")
        else:
            conf.append("No bootstrap refits were run, so there is no measure of how much the lift could vary.")
        for name, v in others.items():
            conf.append(f"The model fitted on the {name} rows only predicts {_fmt(v)} for the same move"
                        + (" (same direction)." if np.sign(v) == np.sign(budget.lift) else " (opposite direction)."))
        if "truth" in budget.checks:
            tv = budget.checks["truth"]
            conf.append(f"Against the simulation's ground truth the move changes {cfg.target} by {_fmt(tv)}"
                        + (": it would pay off." if tv > 0 else ": in this simulation it would lose sales."))
        sure = moved and draws.size >= _MIN_REFITS and share >= _SURE and agree
    if holdout is not None and len(holdout.scores):
        held = holdout.scores[holdout.scores["split"] == "holdout"].set_index("variant")
        r2 = float(held.loc[main, "r2"])
        conf.append(f"On the last {int(held['weeks'].iloc[0])} weeks, held out from a refit, the {main} model "
                    f"is off by {100 * held.loc[main, 'mape']:.1f}% on average (R² {r2:.2f}"
                    + ("; no better than those weeks' own mean, so it does not foresee their ups and downs)."
                       if not r2 > 0 else ")."))
        # A model that cannot beat the mean of weeks it has not seen cannot make a move "sure".
        sure = sure and r2 > 0
    flags = int((coherence["status"] == "flag").sum())
    if flags:
        conf.append(f"{flags} business-coherence check{'s' if flags > 1 else ''} flagged (see below).")
    if moved:
        few = f" (only {draws.size} bootstrap refits)" if draws.size < _MIN_REFITS else ""
        scored = holdout is not None and len(holdout.scores) > 0
        conf.insert(0, _CONSISTENT.format(holdout=" and the holdout beats the mean" if scored else "") if sure else
                    f"Not sure{few}: treat the move as a hypothesis to test (for example with a geo experiment), "
                    "not a plan.")

    unknowns = []
    v = diagnostics.vif[diagnostics.vif["role"] == "channel"]
    hard = v[v["observed"] > _HARD_VIF]
    if len(hard):
        text = (f"The observed weeks barely separate {', '.join(hard['term'])} from the other drivers (variance "
                f"inflation above {_HARD_VIF:.0f})")
        if hard["augmented"].notna().any():
            still = hard.loc[hard["augmented"] > _HARD_VIF, "term"].tolist()
            text += ("; with augmentation all fall below it" if not still
                     else f"; with augmentation {', '.join(still)} stay above it")
        unknowns.append(text + ".")
    unsure = coherence[coherence["status"] == "uncertain"]
    if len(unsure):
        unknowns.append("Whether " + ", ".join(dict.fromkeys(unsure["channel"])) + " has any effect: the ROI "
                        "interval reaches zero.")
    if mmm.discovery_ is not None:
        e = mmm.discovery_.report.edges
        missing = e[(e["verdict"] == "not supported") & (e["kind"] == "required")]
        if len(missing):
            unknowns.append("Whether " + ", ".join(f"{r.source} drives {r.target}" for r in missing.itertuples())
                            + ": the data do not support these expert edges.")
    s = results.summary
    if set(s["variant"]) >= {"augmented", "observed"}:
        wide = s.pivot(index="channel", columns="variant", values="roi")
        lo = s.pivot(index="channel", columns="variant", values="roi_lower")
        hi = s.pivot(index="channel", columns="variant", values="roi_upper")
        apart = [c for c in wide.index if np.isfinite(lo.loc[c]).all()
                 and (hi.loc[c, "augmented"] < lo.loc[c, "observed"] or hi.loc[c, "observed"] < lo.loc[c, "augmented"])]
        if apart:
            unknowns.append("The ROI of " + ", ".join(
                f"{c} ({wide.loc[c, 'augmented']:.2g} with augmentation, {wide.loc[c, 'observed']:.2g} without)"
                for c in apart) + ": the two fits' intervals do not overlap, so the estimate depends on the method.")
    main_s = s[s["variant"] == main].set_index("channel")
    wide_ci = [c for c, r in main_s.iterrows()
               if c not in set(unsure["channel"]) and np.isfinite(r["roi_lower"]) and r["roi"] > 0 and (r["roi_upper"] - r["roi_lower"]) > 0.5 * r["roi"]]
    if wide_ci:
        unknowns.append("The exact ROI of " + ", ".join(
            f"{c} (somewhere in {main_s.loc[c, 'roi_lower']:.2g} to {main_s.loc[c, 'roi_upper']:.2g})"
            for c in wide_ci) + ": each bootstrap interval is wider than half the estimate.")
    beyond = []
    for r in (risk.table if risk is not None else t).itertuples():
        m = r.optimal_spend / r.current_spend if r.current_spend > 0 else 1.0
        col = mmm.spend_[:, list(cfg.channels).index(r.channel)]
        if m > 1.0 + _MOVE / 100:
            share = float(np.mean(m * col > col.max()))
            if share > 0:
                beyond.append(f"{r.channel} in {100 * share:.0f}% of weeks")
    if beyond:
        unknowns.append("How sales respond to spend above anything observed: the proposal goes past the largest "
                        "observed week for " + ", ".join(beyond) + ", where the model extrapolates.")
    unknowns.append("Whether the model's form is right: bootstrap refits measure how much the estimates move "
                    "with the weeks, not a wrong model; a holdout or an experiment checks that.")
    return ReportSummary(action, tuple(conf), tuple(unknowns), bool(sure), draws)
