"""The full protocol (20 repetitions, every target) of the n_points and threshold scenarios on Dask.

    python -m benchmarks.study_full --estimate            # time sample cells, extrapolate the wall time
    python -m benchmarks.study_full --run --workers 2     # run both scenarios on a LocalCluster

``--estimate`` times single cells (``run_once``, the full protocol, seed 0) for the values whose
cost differs most (n = 30, 100, 700; θ = 1e-5 at n = 100), interpolates the others in n
(linear between timed points), and divides the total by the worker count: the wall time of
``--run``, which sends every cell to a ``distributed.LocalCluster`` of ``--workers``
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


def _time_cell(parameter: str, value) -> float:
    from causalda_jax.study import DEFAULTS, Protocol, run_once

    start = time.perf_counter()
    run_once(DEFAULTS.with_value(parameter, value), Protocol(), 0)
    return time.perf_counter() - start


def estimate(workers: int) -> dict:
    from benchmarks.timing import device_info
    from causalda_jax.study import DEFAULTS, SCENARIOS as ALL

    timed_n = {n: _time_cell("n_samples", n) for n in (30, 100, 700)}
    timed_theta = _time_cell("threshold", 1e-5)
    xs = sorted(timed_n)
    per_cell_n = {n: float(np.interp(n, xs, [timed_n[x] for x in xs])) for n in ALL["n_points"].values}
    # θ only changes the augment arms; between θ = 1e-2 (the n = 100 cell) and 1e-5 interpolate in log θ.
    base = timed_n[DEFAULTS.n_samples]
    per_cell_theta = {
        t: float(np.interp(np.log10(t), [-5, -2], [timed_theta, base])) if t < 1e-2 else base
        for t in ALL["threshold"].values
    }
    reps = 20
    total = reps * (sum(per_cell_n.values()) + sum(per_cell_theta.values()))
    return {
        "timed_cells_s": {**{f"n_samples={k}": v for k, v in timed_n.items()}, "threshold=1e-05": timed_theta},
        "per_cell_s": {"n_points": per_cell_n, "threshold": per_cell_theta},
        "cells": reps * (len(per_cell_n) + len(per_cell_theta)),
        "cpu_seconds": total,
        "workers": workers,
        "estimated_wall_s": total / workers,
        "note": "timed on a CPU shared with other jobs: an upper estimate for an idle machine",
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
    args = parser.parse_args()
    if args.estimate:
        result, name = estimate(args.workers), "study_full_estimate.json"
    elif args.run:
        result, name = run(args.workers), "study_full.json"
    else:
        parser.error("pass --estimate or --run")
    (RESULTS / name).write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
