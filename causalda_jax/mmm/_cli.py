"""The ``causalda demo`` and ``causalda mmm`` commands."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._cli_io import check_folder, fail, read_table
from .._output import staged_folder, write_file

__all__ = ["demo_command", "mmm_command", "summary_tables"]


def _relocate(result: dict, staging: Path, out: Path) -> dict:
    """Point the paths of a run built in ``staging`` (and its run.json) at ``out``, its final place."""
    old, new = str(staging), str(out)

    def move(value):
        if isinstance(value, str) and value.startswith(old):
            return new + value[len(old):]
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    run_json = staging / "run.json"
    if run_json.exists():
        saved = move(json.loads(run_json.read_text(encoding="utf-8")))
        write_file(run_json, lambda tmp: Path(tmp).write_text(json.dumps(saved, indent=2), encoding="utf-8"))
    return {k: (v if k in ("model", "results", "budget") else move(v)) for k, v in result.items()}


def _progress(console):
    start = time.perf_counter()

    def say(msg: str) -> None:
        console.print(f"[dim]{time.perf_counter() - start:6.1f}s[/dim]  {msg}")

    return say


_VARIANT_TITLES = {"augmented": "fitted on observed + augmented rows", "observed": "fitted on the observed rows only"}


def summary_tables(summary, *, refits: int, interval: float = 0.9, method: str = "percentile"):
    """The ROI summary as one rich Table per variant (channel names in full), and a legend.

    Example:
        >>> import pandas as pd
        >>> row = {"variant": "observed", "channel": "connected_tv_streaming", "spend_share": 0.5,
        ...        "effect_share": 0.4, "roi": 1.2, "roi_lower": 1.0, "roi_upper": 1.5, "roi_aug_sd": float("nan"),
        ...        "mroi": 0.8}
        >>> tables, legend = summary_tables(pd.DataFrame([row]), refits=20)
        >>> len(tables), tables[0].columns[0].header
        (1, 'channel')
    """
    from rich import box
    from rich.table import Table

    def num(v) -> str:
        return "-" if v != v else f"{v:.3g}"  # NaN prints as a dash

    if not refits:
        point = "point: the full fit; no refits, no intervals"
    elif method == "basic":
        point = f"point: median of {refits} refits reflected about the full fit"
    else:
        point = f"point: median of {refits} refits"
    tables = []
    for variant, part in summary.groupby("variant", sort=False):
        title = f"ROI, {variant} ({_VARIANT_TITLES.get(variant, variant)})"
        table = Table(title=title, caption=point, box=box.SIMPLE_HEAD)
        # Numbers never wrap; the channel column takes the remaining width and wraps a long
        # name onto more lines (fold) rather than truncating it.
        table.add_column("channel", overflow="fold", ratio=1, min_width=8)
        for col in ("spend\nshare", "effect\nshare", "ROI", f"{interval:.0%}\ninterval", "aug\nsd", "mROI"):
            table.add_column(col, justify="right", no_wrap=True)
        for _, r in part.iterrows():
            table.add_row(str(r["channel"]), f"{r['spend_share']:.2f}", f"{r['effect_share']:.2f}", num(r["roi"]),
                          f"[{num(r['roi_lower'])}, {num(r['roi_upper'])}]", num(r["roi_aug_sd"]), num(r["mroi"]))
        tables.append(table)
    legend = [
        "mROI = marginal ROI (extra target per extra unit of spend); aug sd = standard deviation of the ROI over "
        "augmentation draws with the data and weights fixed (- : no augmentation)."
    ]
    if refits:
        legend.append(
            "The intervals reflect refitting noise (reweighted weeks, new augmentation draws), not model error: "
            "on simulated markets they cover the true ROI less often than their nominal level (docs/intervals.md)."
        )
    return tables, legend


def _finish(console, result: dict) -> None:
    res = result["results"]
    cfg = result["model"].config
    tables, legend = summary_tables(res.summary, refits=cfg.bootstrap, interval=cfg.interval, method=cfg.interval_method)
    for table in tables:
        console.print(table)
    for line in legend:
        console.print(f"[dim]{line}[/dim]")
    if res.truth is not None:
        console.print("error against the ground truth (mean over channels):")
        for v, e in result["truth_errors"].items():
            console.print(f"  {v:9s} ROI abs error {e['roi_abs_error']:.3f}, effect-share error "
                          f"{e['share_abs_error']:.3f}, weekly contribution error {e['contribution_rel_error']:.3f}")
    b = result["budget"]
    console.print(f"budget ({b.method}): predicted lift {b.lift:+.4g} ({b.lift_percent:+.2f}%)"
                  + "".join(f"; {k}: {v:+.4g}" for k, v in b.checks.items()))
    risk = result.get("risk_budget")
    if risk is not None:
        console.print(f"risk-aware budget: expected lift {risk.expected_lift:+.4g} (90% of refits "
                      f"{risk.lift_interval[0]:+.4g} to {risk.lift_interval[1]:+.4g}), beats the current allocation "
                      f"in {100 * risk.probability:.0f}% of refits" + ("" if risk.reliable else ": no reliable gain")
                      + (f"; truth: {risk.truth_lift:+.4g}" if risk.truth_lift is not None else ""))
    console.print(f"[bold]what to do:[/bold] {result['summary'].action}")
    console.print(f"augmentation: {result['augmentation']}; graph: {result['graph_source']}")
    console.print(f"[bold]report:[/bold] {result['report']}  ({result['timings']['total_s']:.1f}s)")


def demo_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the report, charts and tables.")] = Path(
        "causalda-demo"
    ),
    weeks: Annotated[int, typer.Option("--weeks", help="Weeks to simulate.")] = 156,
    channels: Annotated[int, typer.Option("--channels", help="Number of media channels (3 to 6).")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation and of every fit.")] = 0,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap refits for the intervals.")] = 20,
    augmentation: Annotated[str, typer.Option("--augmentation", help="'sample', 'augment' or 'none'.")] = "sample",
    model: Annotated[str, typer.Option("--model", help="'xgboost', 'mlp', 'linear' or 'bayes'.")] = "xgboost",
    quick: Annotated[bool, typer.Option("--quick", help="Small run for a smoke test (2 refits, 80 weeks).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")] = False,
) -> None:
    """Simulate a marketing mix with known answers and run the whole causal workflow on it.

    Learns the graph with the built-in expert knowledge (and shows where the data disagree),
    augments, fits with and without augmentation, computes contributions, shares, ROI and
    response curves on the observed weeks, optimises the budget, and writes index.html with
    PNG charts and CSV tables into --out.
    """
    import numpy as np
    from rich.console import Console

    check_folder("--out", out, [], force)
    from ._config import MMMConfig
    from ._simulate import CONTROLS, simulate
    from ._workflow import run_workflow

    console = Console()
    say = _progress(console)
    if quick:
        weeks, bootstrap = min(weeks, 80), min(bootstrap, 2)
    try:
        sim = simulate(weeks=weeks, channels=channels, seed=seed)
        config = MMMConfig(
            target="sales", channels=sim.channels, controls=CONTROLS, mediators=(sim.mediator,),
            augmentation=augmentation, model=model, bootstrap=bootstrap, seed=seed,
            **({"discovery_params": {"standardize": True, "n_bootstrap": 2, "threshold": 0.15}} if quick else {}),
            roi_range={c: [0.3, 4.0] for c in sim.channels}, kpi_column="conversions",
        )
    except ValueError as e:
        fail(str(e))
    say(f"simulated {weeks} weeks, channels {', '.join(sim.channels)} (seed {seed}); true ROI "
        + ", ".join(f"{c} {r:.2f}" for c, r in sim.roi.items()))
    # A conversions column next to the sales target, so the report shows cost per acquisition:
    # one conversion per 40 of sales, with 5% week-to-week noise.
    noise = np.random.default_rng(seed + 1).lognormal(0.0, 0.05, len(sim.data))
    data = sim.data.assign(conversions=np.round(sim.data["sales"] / 40.0 * noise))
    with staged_folder(out) as staging:
        result = run_workflow(data, config, str(staging), truth=sim, progress=say,
                              title="causalda demo: marketing mix")
        data.to_csv(staging / "data.csv", index=False)
        result = _relocate(result, staging, out)
    _finish(console, result)


def mmm_command(
    data: Annotated[Path, typer.Argument(help="Weekly CSV (or parquet): date, target, spends, controls.")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Config file (.json, .yaml, .yml).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("causalda-mmm"),
    bootstrap: Annotated[
        Optional[int], typer.Option("--bootstrap", help="Override the config's bootstrap refits.")
    ] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Override the config's seed.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")] = False,
) -> None:
    """Run the marketing mix workflow on your own weekly data and write the report into --out."""
    from rich.console import Console

    check_folder("--out", out, [data, config], force)
    from ._config import load_config
    from ._workflow import run_workflow

    console = Console()
    say = _progress(console)
    if config.is_dir():
        fail(f"--config: {config} is a folder; give the config file (.json, .yaml or .yml)")
    try:
        cfg = load_config(config)
    except (ValueError, TypeError, FileNotFoundError) as e:
        fail(f"--config: {e}")
    # The graph and knowledge files the config names are inputs too.
    named = [v for v in (cfg.graph, cfg.knowledge) if isinstance(v, (str, Path)) and Path(v).is_file()]
    check_folder("--out", out, [data, config, *named], force)
    overrides = {k: v for k, v in {"bootstrap": bootstrap, "seed": seed}.items() if v is not None}
    try:
        cfg = dataclasses.replace(cfg, **overrides)
    except ValueError as e:
        fail(f"{' / '.join('--' + k for k in overrides)}: {e}")
    try:
        frame = read_table(data)
    except ValueError as e:
        fail(str(e))
    from ._data import validate_weekly

    try:
        validate_weekly(frame, cfg)
    except (ValueError, TypeError) as e:
        fail(f"DATA: {e}")
    say(f"read {len(frame)} rows, {frame.shape[1]} columns from {data}")
    try:
        with staged_folder(out) as staging:
            result = run_workflow(frame, cfg, str(staging), progress=say, title=f"Marketing mix report: {data.name}")
            result = _relocate(result, staging, out)
    except ValueError as e:
        fail(f"DATA: {e}")
    _finish(console, result)
