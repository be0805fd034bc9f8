"""Recovery of known marketing answers across simulated markets, per model and augmentation.

Every market comes from :func:`causalda_jax.mmm.simulate` (confounding, weeks, channels and
seed vary); the true causal graph is given to every arm, so what is measured is the response
model and the augmentation, not graph learning. Arms: {xgboost, bayes} x {none, sample,
augment}, plus bayes with one lift test (8 weeks, sd 10% of the true lift) on the channel
whose ROI the plain bayes fit got most wrong. Per arm and market: ROI relative error per
channel, whether the 90% interval covers the true ROI, effect-share error, decay error,
holdout MAPE (last 13 weeks, scored by a point refit on the weeks before; the Bayesian
model through its posterior-mean fit on the later weeks) and the budget's true regret (true
sales of the recommended allocation minus those of the current one, and that lift as a
fraction of the true optimal lift within the same bounds). Every arm records the rows its
augmentation generated; where the weighted enumeration (``augment``) generates none, its fit
is the observed fit, so the arm reuses those scores and the per-market table says so.

Run::

    python -m benchmarks.mmm_recovery --quick          # 4 markets, a few minutes
    python -m benchmarks.mmm_recovery                  # 20 markets
    python -m benchmarks.mmm_recovery --arms bayes/none,bayes/lift --markets 0-9
    python -m benchmarks.mmm_recovery --merge mmm_recovery,mmm_recovery_b   # -> mmm_recovery_all.*
    python -m benchmarks.mmm_recovery --add-holdout mmm_recovery_a   # holdout MAPE for a --no-holdout run

Writes ``benchmarks/results/mmm_recovery[_quick].{json,md,png}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

CONFOUNDING = (0.0, 0.3, 0.6, 0.9)
ARMS = ("xgboost/none", "xgboost/sample", "xgboost/augment", "bayes/none", "bayes/sample", "bayes/augment", "bayes/lift")
HOLDOUT = 13
OUT = os.path.join(os.path.dirname(__file__), "results")


def markets(count: int) -> list[dict]:
    """A fixed list of markets: confounding cycles fastest, then channels; weeks alternate."""
    out = []
    for i in range(count):
        out.append({
            "market": i,
            "confounding": CONFOUNDING[i % 4],
            "channels": 3 + (i // 4) % 4,
            "weeks": (104, 156)[(i // 4 + i) % 2],
            "seed": 100 + i,
        })
    return out


def _config(sim, model: str, augmentation: str, args, lift_tests=()):
    from causalda_jax.mmm import MMMConfig

    return MMMConfig(
        target="sales", channels=sim.channels, controls=("price", "promo"), mediators=(sim.mediator,),
        graph=sim.graph.to_dict(), augmentation=augmentation, model=model, bootstrap=args.bootstrap,
        draws=args.draws, lift_tests=lift_tests, seed=0, augmentation_draws=0,
    )


def _true_optimum(sim, lower, upper, total, spend):
    from causalda_jax.mmm import allocate_search

    current = spend.sum(axis=0)

    def objective(alloc):
        mult = np.divide(alloc, current, out=np.ones_like(alloc), where=current > 0)
        return np.array([sim.true_sales(spend * m).sum() for m in mult])

    best = allocate_search(objective, total, lower, upper, init=current, rounds=20, candidates=32)
    return float(objective(best[None])[0] - objective(current[None])[0])


def _score(mmm, res, variant, sim) -> list[dict]:
    s = res.summary[res.summary["variant"] == variant].set_index("channel")
    true_share = np.clip(sim.contributions[list(sim.channels)].sum(), 0, None)
    true_share = true_share / true_share.sum()
    decays = dict(zip(sim.channels, np.asarray(mmm.models_[variant].decays, np.float64)))
    rows = []
    for ch in sim.channels:
        true_roi = float(sim.roi[ch])
        rows.append({
            "channel": ch,
            "true_roi": true_roi,
            "roi": float(s.loc[ch, "roi"]),
            "roi_rel_error": abs(float(s.loc[ch, "roi"]) - true_roi) / abs(true_roi),
            "covered": bool(s.loc[ch, "roi_lower"] <= true_roi <= s.loc[ch, "roi_upper"]),
            "share_error": abs(float(s.loc[ch, "effect_share"]) - true_share[ch]),
            "decay_error": abs(decays[ch] - sim.params["decay"][ch]),
        })
    return rows


def _holdout_mape(model, cfg, sim, fit_weeks: int) -> float:
    """MAPE of the target on the weeks after the fit window, spends, controls and mediators as observed."""
    from causalda_jax.mmm._bayes import BayesianResponse
    from causalda_jax.mmm._data import feature_table, validate_weekly

    full = validate_weekly(sim.data, cfg)
    decays = dict(zip(cfg.channels, np.asarray(model.decays, np.float64)))
    feats = feature_table(full, cfg, decays)
    # The trend runs 0..1 over the fitted weeks; continue it past them.
    feats["trend"] = np.arange(len(feats)) / (fit_weeks - 1)
    y = full[cfg.target].to_numpy()[fit_weeks:]
    if isinstance(model, BayesianResponse):
        pred = model.fitted(feats, full[list(cfg.channels)].to_numpy(np.float64))
    else:
        pred = model.predictors[cfg.target](feats[list(model.target_inputs)].to_numpy(np.float64))
    return float(np.mean(np.abs(pred[fit_weeks:] - y) / np.abs(y)))


def run_market(m: dict, arms: list[str], args) -> list[dict]:
    from causalda_jax.mmm import simulate

    t_market = time.perf_counter()
    sim = simulate(weeks=m["weeks"], channels=m["channels"], seed=m["seed"], confounding=m["confounding"])
    spend = sim.data[list(sim.channels)].to_numpy(np.float64)
    current = spend.sum(axis=0)
    optimum = _true_optimum(sim, 0.5 * current, 1.5 * current, current.sum(), spend)
    augment_arms = [a for a in arms if a.endswith("/augment")]
    augment_rows = _augment_size(sim, args) if augment_arms else -1
    # An empty enumeration leaves the augmented variant with the observed rows, unit weights
    # and the same seed: its fit is the observed fit, so that arm copies the observed arm's
    # scores (marked rows_generated = 0) instead of fitting it again.
    need = set(arms) | ({a.replace("/augment", "/none") for a in augment_arms} if augment_rows == 0 else set())
    jobs = []  # (model, augmentation, with a lift test, {variant: arm})
    for model in ("xgboost", "bayes"):
        if f"{model}/sample" in need:
            jobs.append((model, "sample", False, {"augmented": f"{model}/sample", "observed": f"{model}/none"}))
        elif f"{model}/none" in need or (model == "bayes" and "bayes/lift" in need):
            jobs.append((model, "none", False, {"observed": f"{model}/none"}))
        if f"{model}/augment" in need and augment_rows != 0:
            jobs.append((model, "augment", False, {"augmented": f"{model}/augment"}))
    if "bayes/lift" in need:
        jobs.append(("bayes", "none", True, {"observed": "bayes/lift"}))
    out, plain = [], None
    for model, aug, lift, variants in jobs:
        lift_tests = _lift_tests(sim, plain) if lift else ()
        t0 = time.perf_counter()
        mmm, cfg = _fit(model, aug, sim, sim.data, args, lift_tests)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        mapes = _holdout_mapes(sim, model, aug, lift_tests, args) if args.holdout else {}
        holdout_s = time.perf_counter() - t0
        res = mmm.kpis(truth=sim)
        if model == "bayes" and not lift:
            plain = res
        for variant, arm in variants.items():
            if arm not in need or variant not in mmm.models_:
                continue
            t1 = time.perf_counter()
            rows = _score(mmm, res, variant, sim)
            budget = mmm.optimize_budget(truth=sim, variant=variant)
            true_lift = budget.checks["truth"]
            mape = mapes.get(variant, float("nan"))
            generated = len(mmm.augmented_rows_) if variant == "augmented" else 0
            for r in rows:
                r.update(arm=arm, **m, budget_true_lift=true_lift, budget_optimal_lift=optimum,
                         budget_fraction=true_lift / optimum if optimum > 0 else np.nan,
                         holdout_mape=mape, fit_s=fit_s, holdout_s=holdout_s, score_s=time.perf_counter() - t1,
                         augmentation_used=mmm.augmentation_used_ if variant == "augmented" else "none",
                         rows_generated=generated, lift_channel=lift_tests[0]["channel"] if lift_tests else "")
            out.extend(rows)
            _say(m, arm, rows, optimum, fit_s)
    for arm in augment_arms if augment_rows == 0 else ():
        out += _as_empty_augment(out, arm)
        _say(m, arm, out[-m["channels"]:], optimum, 0.0)
    wall = time.perf_counter() - t_market
    out = [dict(r, market_wall_s=wall) for r in out if r["arm"] in arms]
    return out


def _say(m, arm, rows, optimum, fit_s):
    r0 = rows[0]
    print(f"  market {m['market']} {arm:16s} ROI rel err {np.mean([r['roi_rel_error'] for r in rows]):.3f} "
          f"coverage {np.mean([r['covered'] for r in rows]):.2f} budget true lift {r0['budget_true_lift']:+.1f} "
          f"(optimum {optimum:+.1f}) holdout MAPE {r0['holdout_mape']:.3f} rows generated {r0['rows_generated']} "
          f"[{fit_s:.0f}s fit]", flush=True)


def _as_empty_augment(rows: list[dict], arm: str) -> list[dict]:
    """The observed arm's rows relabelled as the (empty) augment arm."""
    observed = arm.replace("/augment", "/none")
    return [dict(r, arm=arm, rows_generated=0, fit_s=0.0, holdout_s=0.0,
                 augmentation_used="augment (empty at this threshold: observed rows only)")
            for r in rows if r["arm"] == observed]


def _augment_size(sim, args) -> int:
    """Rows the weighted enumeration (augmentation ``augment``) generates for this market's features."""
    from causalda_jax._graph import as_graph
    from causalda_jax.mmm._data import feature_table, validate_weekly
    from causalda_jax.mmm._model import augment_rows, grid_decays

    cfg = _config(sim, "xgboost", "augment", args)
    weekly = validate_weekly(sim.data, cfg)
    features = feature_table(weekly, cfg, grid_decays(weekly, cfg))
    return len(augment_rows(features, as_graph(cfg.graph), cfg, cfg.seed).table) - len(features)


def _holdout_mapes(sim, model, aug, lift_tests, args) -> dict:
    """Holdout MAPE per variant of one refit on all but the last ``HOLDOUT`` weeks.

    Only the point fit is scored, so the refit skips the bootstrap; lift tests that end
    inside the holdout weeks are dropped. The Bayesian model is scored through
    :meth:`BayesianResponse.fitted` (posterior-mean fit on weeks past the fitted ones).
    """
    n = len(sim.data) - HOLDOUT
    kept = [t for t in lift_tests if t["end"] <= sim.data["date"].iloc[n - 1]]
    head, cfg = _fit(model, aug, sim, sim.data.iloc[:n], argparse.Namespace(**{**vars(args), "bootstrap": 0}), kept)
    return {v: _holdout_mape(rm, cfg, sim, n) for v, rm in head.models_.items()}


def _lift_tests(sim, plain) -> list:
    """One 8-week test mid-sample (sd 10% of its true lift) on the channel the plain fit got most wrong."""
    s = plain.summary.query("variant == 'observed'").set_index("channel")
    return _lift_test_on(sim, ((s["roi"] - sim.roi) / sim.roi).abs().idxmax())


def _lift_test_on(sim, channel: str) -> list:
    start = sim.data["date"].iloc[len(sim.data) // 2]
    end = sim.data["date"].iloc[len(sim.data) // 2 + 7]
    lift = sim.true_lift(channel, start, end)
    return [{"channel": channel, "start": start, "end": end, "lift": lift, "sd": 0.1 * abs(lift)}]


def _fit(model, aug, sim, data, args, lift_tests=()):
    from causalda_jax.mmm import MarketingMixModel

    cfg = _config(sim, model, aug, args, lift_tests)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MarketingMixModel(cfg).fit(data), cfg


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per arm: the metrics the targets are stated in."""
    per_market = rows.groupby(["arm", "market"]).agg(
        budget_true_lift=("budget_true_lift", "first"), budget_fraction=("budget_fraction", "first"),
        holdout_mape=("holdout_mape", "first"),
    )
    by_arm = rows.groupby("arm")
    out = pd.DataFrame({
        "markets": by_arm["market"].nunique(),
        "roi_rel_error_mean": by_arm["roi_rel_error"].mean(),
        "roi_rel_error_median": by_arm["roi_rel_error"].median(),
        "coverage_90": by_arm["covered"].mean(),
        "share_error_mean": by_arm["share_error"].mean(),
        "decay_within_0.15": by_arm["decay_error"].apply(lambda e: float((e <= 0.15).mean())),
        "decay_error_mean": by_arm["decay_error"].mean(),
        "holdout_mape": per_market.groupby("arm")["holdout_mape"].mean(),
        "holdout_markets": per_market.groupby("arm")["holdout_mape"].count(),
        "budget_loses_share": per_market.groupby("arm")["budget_true_lift"].apply(lambda x: float((x < 0).mean())),
        "budget_fraction_mean": per_market.groupby("arm")["budget_fraction"].mean(),
        "budget_fraction_median": per_market.groupby("arm")["budget_fraction"].median(),
        "rows_generated_mean": by_arm["rows_generated"].mean() if "rows_generated" in rows else np.nan,
        "fit_s_mean": by_arm["fit_s"].mean(),
    })
    return out.reindex([a for a in ARMS if a in out.index])


def _plot(table: pd.DataFrame, rows: pd.DataFrame, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    arms = list(table.index)
    data = [rows.loc[rows["arm"] == a, "roi_rel_error"].to_numpy() for a in arms]
    axes[0].boxplot(data, showfliers=False)
    axes[0].set_xticks(range(1, len(arms) + 1), arms, rotation=45, ha="right")
    axes[0].axhline(0.25, color="red", ls=":", label="target 0.25")
    axes[0].set_title("ROI relative error per (market, channel)")
    axes[0].legend()
    axes[1].bar(arms, table["coverage_90"])
    axes[1].axhspan(0.8, 0.97, color="green", alpha=0.15, label="target 80-97%")
    axes[1].set_title("90% interval coverage of the true ROI")
    axes[1].tick_params(axis="x", rotation=45)
    axes[1].legend()
    axes[2].bar(arms, table["budget_fraction_median"])
    axes[2].axhline(0.5, color="red", ls=":", label="target 0.5")
    axes[2].set_title("budget: true lift / true optimal lift (median over markets)")
    axes[2].tick_params(axis="x", rotation=45)
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _merge(names: list[str], tag: str) -> None:
    """One table over the rows of several runs (e.g. disjoint market ranges run side by side)."""
    runs = [json.load(open(os.path.join(OUT, n + ".json"), encoding="utf-8")) for n in names]
    frame = pd.concat([pd.DataFrame(r["rows"]) for r in runs], ignore_index=True)
    # A market run twice (an interrupted run redone elsewhere) counts once: the later run's rows.
    frame = frame.drop_duplicates(["market", "arm", "channel"], keep="last").reset_index(drop=True)
    table = summarize(frame)
    name = f"mmm_recovery_{tag}"
    meta = {"command": "; ".join(r["meta"]["command"] for r in runs), "runs": names,
            "wall_s": [r["meta"]["wall_s"] for r in runs], "machine": runs[0]["meta"]["machine"],
            "graph": runs[0]["meta"]["graph"],
            "holdout": {k: v for r in runs for k, v in r["meta"].get("holdout", {}).items()}}
    _save(name, frame, table, meta)
    print(table.round(3).to_string())


def _add_holdout(name: str, args) -> None:
    """Holdout MAPE and the empty augment arms for an earlier run's markets, without redoing its full fits.

    The holdout score needs only the refits on the first weeks (and the lift channel the run
    recorded), so the full fits, intervals and budgets of ``name`` are kept as they are.
    """
    from causalda_jax.mmm import simulate

    path = os.path.join(OUT, name + ".json")
    with open(path, encoding="utf-8") as f:
        run = json.load(f)
    frame = pd.DataFrame(run["rows"])
    if "rows_generated" not in frame:
        ratio = _config(simulate(weeks=60, channels=3, seed=0), "xgboost", "sample", args).augmentation_ratio
        frame["rows_generated"] = np.where(frame["arm"].str.endswith("/sample"),
                                           (ratio * frame["weeks"]).round().astype(int), 0)
    frame["holdout_s"] = frame.get("holdout_s", np.nan)
    models = [x for x in args.holdout_models.split(",") if x]
    grid = {m["market"]: m for m in markets(args.count)}
    for market in sorted(frame["market"].unique()):
        m, t1 = grid[int(market)], time.perf_counter()
        here = frame["market"] == market
        arms = set(frame.loc[here, "arm"])
        todo = here & frame["arm"].str.split("/").str[0].isin(models)
        if frame.loc[todo, "holdout_mape"].notna().all() and "xgboost/augment" in arms:
            continue  # done by an earlier, interrupted call
        sim = simulate(weeks=m["weeks"], channels=m["channels"], seed=m["seed"], confounding=m["confounding"])
        for model in models:
            if {f"{model}/none", f"{model}/sample"} & arms:
                mapes = _holdout_mapes(sim, model, "sample" if f"{model}/sample" in arms else "none", (), args)
                for variant, arm in (("observed", f"{model}/none"), ("augmented", f"{model}/sample")):
                    frame.loc[here & (frame["arm"] == arm), "holdout_mape"] = mapes.get(variant, np.nan)
        if "bayes/lift" in arms and "bayes" in models:
            channel = frame.loc[here & (frame["arm"] == "bayes/lift"), "lift_channel"].iloc[0]
            mapes = _holdout_mapes(sim, "bayes", "none", _lift_test_on(sim, channel), args)
            frame.loc[here & (frame["arm"] == "bayes/lift"), "holdout_mape"] = mapes["observed"]
        frame.loc[here, "holdout_s"] = frame.loc[here, "holdout_s"].fillna(0.0) + time.perf_counter() - t1
        size = _augment_size(sim, args)
        wanted = [f"{model}/augment" for model in ("xgboost", "bayes")
                  if f"{model}/augment" not in arms and f"{model}/none" in arms]
        if size == 0:
            frame = frame[~(here & frame["arm"].str.endswith("/augment"))]
            extra = [r for arm in {*wanted, *(a for a in arms if a.endswith("/augment"))}
                     for r in _as_empty_augment(frame[frame["market"] == market].to_dict("records"), arm)]
            frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
        elif wanted:
            print(f"  market {market}: augment generates {size} rows; run {wanted} with --arms to fit them")
        print(f"  market {market}: holdout MAPE added [{time.perf_counter() - t1:.0f}s]; augment rows {size}", flush=True)
        command = f"python -m benchmarks.mmm_recovery --add-holdout {name} --holdout-models {','.join(models)}"
        entry = run["meta"].setdefault("holdout", {}).setdefault(command, {"wall_s": 0.0, "markets": []})
        entry["wall_s"] += time.perf_counter() - t1
        entry["markets"] = sorted({*entry["markets"], int(market)})
        _save(name, frame, summarize(frame), run["meta"])


def _market_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per market: its settings, the rows each augmentation generated, and the seconds spent."""
    g = rows.groupby("market")
    out = g[["confounding", "channels", "weeks"]].first()
    for arm in ("xgboost/sample", "xgboost/augment", "bayes/augment"):
        sub = rows[rows["arm"] == arm].groupby("market")["rows_generated"].first()
        out[f"rows_generated {arm}"] = sub.reindex(out.index).map(
            lambda v: "not run" if pd.isna(v) else ("0 (= observed fit)" if v == 0 and arm.endswith("augment") else int(v)))
    # Arms fitted together (observed and augmented variants of one fit) share their seconds.
    out["fit_s"] = rows.drop_duplicates(["market", "fit_s"]).groupby("market")["fit_s"].sum()
    if "holdout_s" in rows:
        out["holdout_s"] = rows.drop_duplicates(["market", "holdout_s"]).groupby("market")["holdout_s"].sum(min_count=1)
    return out.reset_index()


TARGETS = (  # (column, label, lowest passing value, highest passing value)
    ("roi_rel_error_mean", "mean ROI rel. error <= 0.25", -np.inf, 0.25),
    ("coverage_90", "90% coverage in [0.80, 0.97]", 0.80, 0.97),
    ("decay_within_0.15", "decays within 0.15 >= 0.75", 0.75, np.inf),
    ("budget_loses_share", "losing budgets <= 0.10", -np.inf, 0.10),
    ("budget_fraction_median", "median fraction of optimal lift >= 0.5", 0.5, np.inf),
)


def _targets(table: pd.DataFrame) -> pd.DataFrame:
    """Each target per arm as ``measured (distance to the passing range)``; distance 0 is a pass."""
    out = {}
    for col, label, lo, hi in TARGETS:
        v = table[col]
        gap = np.maximum(lo - v, 0) + np.maximum(v - hi, 0)
        out[label] = [f"{a:.3g} ({'met' if g == 0 else f'off by {g:.2g}'})" for a, g in zip(v, gap)]
    return pd.DataFrame(out, index=pd.Index(table.index, name="arm"))


def _by_confounding(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean ROI relative error and coverage per arm and simulated confounding."""
    t = rows.groupby(["arm", "confounding"]).agg(roi_rel_error=("roi_rel_error", "mean"), coverage=("covered", "mean"))
    t = t.unstack("confounding")
    t.columns = [f"{k} c={c}" for k, c in t.columns]
    return t.reindex([a for a in ARMS if a in t.index])


def _markdown(table: pd.DataFrame) -> str:
    head = [table.index.name or "arm", *map(str, table.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([str(i), *(_cell(v) for v in r)]) + " |"
              for i, r in zip(table.index, table.itertuples(index=False))]
    return "\n".join(lines)


def _cell(v) -> str:
    if isinstance(v, float):
        return "n/a" if np.isnan(v) else f"{v:.3g}"
    return str(v)


def _parse_range(text: str, count: int) -> list[int]:
    if not text:
        return list(range(count))
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="4 markets, 5 bootstrap refits, no holdout refits")
    p.add_argument("--count", type=int, default=20, help="markets in the grid")
    p.add_argument("--markets", default="", help="subset of market indices, e.g. 0-4,9")
    p.add_argument("--arms", default=",".join(ARMS), help="comma-separated arms")
    p.add_argument("--bootstrap", type=int, default=20, help="refits for the tree model's intervals")
    p.add_argument("--draws", type=int, default=500, help="posterior draws of the Bayesian model")
    p.add_argument("--no-holdout", dest="holdout", action="store_false", help="skip the holdout refits")
    p.add_argument("--tag", default="", help="suffix of the output files")
    p.add_argument("--add-holdout", default="", help="add holdout MAPE and empty augment arms to an earlier run's JSON")
    p.add_argument("--holdout-models", default="xgboost,bayes",
                   help="with --add-holdout: the models whose holdout refits to run (the Bayesian ones compile anew)")
    p.add_argument("--merge", default="", help="combine earlier runs' JSON (comma-separated names) and exit")
    args = p.parse_args(argv)
    if args.add_holdout:
        return _add_holdout(args.add_holdout, args)
    if args.merge:
        return _merge(args.merge.split(","), args.tag or "all")
    if args.quick:
        args.count, args.bootstrap, args.draws, args.holdout = 4, 5, 200, False
    arms = [a for a in args.arms.split(",") if a]
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        p.error(f"unknown arms {unknown}; choose from {list(ARMS)}")
    grid = markets(args.count)
    chosen = [grid[i] for i in _parse_range(args.markets, args.count)]
    name = "mmm_recovery" + ("_quick" if args.quick else "") + (f"_{args.tag}" if args.tag else "")
    os.makedirs(OUT, exist_ok=True)
    t0 = time.perf_counter()
    rows = []
    for m in chosen:
        print(f"market {m}", flush=True)
        rows += run_market(m, arms, args)
        frame = pd.DataFrame(rows)
        table = summarize(frame)
        _write(name, frame, table, args, arms, chosen, time.perf_counter() - t0)
    print(table.round(3).to_string())


def _write(name, frame, table, args, arms, chosen, wall):
    meta = {
        "command": "python -m benchmarks.mmm_recovery " + " ".join(
            f for f in (("--quick" if args.quick else ""), f"--arms {','.join(arms)}", f"--bootstrap {args.bootstrap}",
                        f"--draws {args.draws}", "" if args.holdout else "--no-holdout",
                        f"--markets {args.markets}" if args.markets else "", f"--tag {args.tag}" if args.tag else "") if f),
        "markets": chosen,
        "wall_s": wall,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs: times are noisy)",
        "graph": "true graph given to every arm",
    }
    _save(name, frame, table, meta)


def _save(name, frame, table, meta):
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "summary": table.reset_index().to_dict("records"),
                   "rows": frame.to_dict("records")}, f, indent=1, default=float)
    with open(os.path.join(OUT, name + ".md"), "w", encoding="utf-8") as f:
        f.write(f"# Marketing mix recovery ({frame['market'].nunique()} markets)\n\n")
        wall = meta["wall_s"]
        wall = [round(w) for w in wall] if isinstance(wall, list) else round(wall)
        f.write(f"`{meta['command']}`; wall {wall} s; {meta['machine']}; {meta['graph']}.\n\n")
        for command, h in meta.get("holdout", {}).items():
            f.write(f"Holdout refits of markets {h['markets']} added afterwards by `{command}` "
                    f"(wall {round(h['wall_s'])} s; the full fits are unchanged).\n\n")
        f.write(_markdown(table.round(3)) + "\n")
        f.write("\nTargets (measured, and how far from the passing range):\n\n")
        f.write(_markdown(_targets(table)) + "\n")
        f.write("\nPer simulated confounding (mean ROI relative error, 90% coverage):\n\n")
        f.write(_markdown(_by_confounding(frame).round(3)) + "\n")
        f.write("\nPer market (rows generated by each augmentation: `0 (= observed fit)` means the weighted "
                "enumeration produced no rows, so that arm's scores are the observed fit's; seconds spent):\n\n")
        f.write(_markdown(_market_table(frame).set_index("market").round(1)) + "\n")
    _plot(table, frame, os.path.join(OUT, name + ".png"))


if __name__ == "__main__":
    main()
