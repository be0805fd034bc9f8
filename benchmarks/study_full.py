"""The full protocol (20 repetitions, every target) of the n_points and threshold scenarios on Dask.

    python -m benchmarks.study_full --estimate            # time sample cells, extrapolate the wall time
    python -m benchmarks.study_full --run --workers 2     # run both scenarios on a LocalCluster

``--estimate`` times single cells (``run_once``, the full protocol, seed 0: the default n = 100
and, unless ``--time-n 100``, the largest, n = 700), takes the other values' cost relative to the default from the quick
results already in benchmarks/results/study_<scenario>/, and divides the total CPU time by the
worker count: the wall time of ``--run``, which sends every cell to a ``distributed.LocalCluster`` of ``--workers``
single-threaded processes. Writes benchmarks/results/study_full_estimate.json or
study_full.json (with the wall time); the results go to benchmarks/results/study_full_<scenario>/.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
SCENARIOS = ("n_points", "threshold")


def _time_cell(parameter: str, value) -> dict:
    """Wall and CPU seconds (all threads of this process) of one full-protocol cell, seed 0."""
    from causalda_jax.study import DEFAULTS, Protocol, run_once

    wall, cpu = time.perf_counter(), time.process_time()
    run_once(DEFAULTS.with_value(parameter, value), Protocol(), 0)
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def _quick_ratios(scenario: str) -> dict:
    """Cost of each value's cell relative to the default cell, from the quick results in RESULTS."""
    import pandas as pd

    r = pd.read_parquet(RESULTS / f"study_{scenario}" / "results.parquet")
    # `seconds` accumulates over an arm's targets (the regressor arm restarts per target).
    per_arm = r.groupby(["value", "rep", "arm"])["seconds"].max()
    reg = r[r["arm"] == "regressor"].groupby(["value", "rep"])["seconds"].sum()
    cell = per_arm.drop("regressor", level="arm").groupby(["value", "rep"]).sum() + reg
    mean = cell.groupby("value").mean()
    return {float(v): float(c) for v, c in mean.items()}


def estimate(workers: int, values: dict) -> dict:
    """Time the cells in ``values`` ({parameter: [value, ...]}) and extrapolate both scenarios."""
    from benchmarks.timing import device_info
    from causalda_jax.study import DEFAULTS, SCENARIOS as ALL

    timed = {f"{p}={v}": _time_cell(p, v) for p, vs in values.items() for v in vs}
    base = timed[f"n_samples={DEFAULTS.n_samples}"]["cpu_s"]
    reps, per_scenario = 20, {}
    for scenario in SCENARIOS:
        sc = ALL[scenario]
        quick = _quick_ratios(scenario)
        default = getattr(DEFAULTS, sc.parameter)
        xs = sorted(quick)
        # Relative cost per value: interpolated from the quick runs (log scale for θ), held flat
        # outside their range, and replaced by a timed cell where there is one.
        ratio = {}
        for v in sc.values:
            key = f"{sc.parameter}={v}"
            if key in timed:
                ratio[v] = timed[key]["cpu_s"] / base
                continue
            x = np.log10(v) if sc.log_x else v
            grid = np.log10(xs) if sc.log_x else np.array(xs)
            ratio[v] = float(np.interp(x, grid, [quick[k] for k in xs])) / quick[float(default)]
        per_scenario[scenario] = {
            "relative_cell_cost": {str(k): v for k, v in ratio.items()},
            "cpu_s": reps * base * sum(ratio.values()),
        }
    total = sum(p["cpu_s"] for p in per_scenario.values())
    return {
        "timed_cells": timed,
        "scenarios": per_scenario,
        "cells": reps * sum(len(ALL[s].values) for s in SCENARIOS),
        "cpu_s": total,
        "workers": workers,
        "estimated_wall_s": total / workers,
        "note": "CPU seconds of the timed cells (the machine was shared, so wall times were longer); the wall "
        "estimate assumes the workers' CPU time parallelises over the machine's cores",
        "device": device_info(),
    }


def run(workers: int) -> dict:
    from distributed import Client, LocalCluster

    from benchmarks.timing import device_info
    from causalda_jax.study import run_study

    out = {"workers": workers, "scenarios": {}, "device": device_info()}
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            for scenario in SCENARIOS:
                start = time.perf_counter()
                results = run_study(scenario, out=RESULTS / f"study_full_{scenario}", client=client, progress=False)
                out["scenarios"][scenario] = {"wall_s": time.perf_counter() - start, "rows": len(results)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--estimate", action="store_true")
    parser.add_argument("--run", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-n", nargs="+", default=[100, 700], help="n_samples of the cells to time (100 needed)")
    args = parser.parse_args()
    if args.estimate:
        cells = {"n_samples": [int(n) for n in args.time_n]}
        result, name = estimate(args.workers, cells), "study_full_estimate.json"
    elif args.run:
        result, name = run(args.workers), "study_full.json"
    else:
        parser.error("pass --estimate or --run")
    (RESULTS / name).write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
