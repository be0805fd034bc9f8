"""From tidy per-target rows to per-run values and confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["METRICS", "per_run", "summarise"]

# (column, label) of the metrics reported; r2_gain is R² minus the baseline's on the same run and target.
METRICS = (
    ("r2", "R² (test)"),
    ("r2_gain", "R² gain over baseline"),
    ("mape", "MAPE (test)"),
    ("kl", "KL(reference ‖ arm) [nats]"),
    ("w1", "W1(reference, arm) (sliced)"),
    ("diversity", "diversity (rel. variance change)"),
    ("frac_augmented", "new rows / n_train"),
    ("frac_filtered", "share of training rows filtered"),
    ("ess", "Kish ESS of the training weights"),
    ("n_generated", "generated rows"),
)


def per_run(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (value, rep, arm): metrics averaged over targets, plus ``r2_gain``."""
    ok = results[results["status"] == "ok"].copy()
    if ok.empty:
        return ok
    base = ok[ok["arm"] == "baseline"].set_index(["value", "rep", "target"])["r2"]
    ok["r2_gain"] = ok["r2"].to_numpy() - base.reindex(pd.MultiIndex.from_frame(ok[["value", "rep", "target"]])).to_numpy()
    if "empty" not in ok:
        ok["empty"] = False
    ok["empty"] = ok["empty"].fillna(False).astype(float)
    cols = [c for c, _ in METRICS if c in ok] + ["empty"]
    for c in cols:
        ok[c] = pd.to_numeric(ok[c], errors="coerce")
    return ok.groupby(["value", "rep", "arm"], sort=False)[cols].mean().reset_index()


def summarise(runs: pd.DataFrame, metric: str, level: float = 0.95) -> pd.DataFrame:
    """Mean over repetitions and a Student-t confidence half-width, per (value, arm)."""

    def ci(x: pd.Series) -> pd.Series:
        x = x.dropna()
        n = len(x)
        half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        return pd.Series({"mean": x.mean() if n else np.nan, "half": half, "n": n})

    return runs.groupby(["value", "arm"], sort=False)[metric].apply(ci).unstack().reset_index()
