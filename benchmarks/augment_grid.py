"""JAX engine vs the package's numpy implementation of ADMG-DA over a grid of problem sizes.

    python -m benchmarks.augment_grid            # the grid of the core-engine issue
    python -m benchmarks.augment_grid --target   # the 1,000-row, 6-variable target case only
    python -m benchmarks.augment_grid --quick    # a few small cases
    python -m benchmarks.augment_grid --n5000    # n = 5,000, d = 10 (augment_n5000_cpu.json)

Writes benchmarks/results/augment_grid.json (or augment_target.json / augment_quick.json) and
a markdown table next to it. Every (engine, case) runs in a fresh process: peak memory is that
process's peak resident set.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def make_data(n: int, d: int, structure: str, seed: int = 0):
    """A nonlinear SCM with one root (x0).

    ``chain``: every other variable has one parent (a random earlier variable), so every
    conditioning set has one column. ``dag``: one or two parents each (multi-column pillows).
    """
    import pandas as pd

    from causalda_jax import CausalGraph

    rng = np.random.default_rng(seed)
    cols, edges = {}, []
    for j in range(d):
        if j == 0:
            cols["x0"] = rng.normal(size=n)
            continue
        k = 1 if structure == "chain" else int(rng.integers(1, 3))
        parents = rng.choice(j, size=min(j, k), replace=False)
        value = 0.4 * rng.normal(size=n)
        for p in parents:
            value += np.sin(1.5 * cols[f"x{p}"]) if rng.random() < 0.5 else np.tanh(2 * cols[f"x{p}"])
            edges.append((f"x{p}", f"x{j}"))
        cols[f"x{j}"] = (value - value.mean()) / value.std()
    return pd.DataFrame(cols), CausalGraph(list(cols), edges)


def run_case(case: dict) -> dict:
    """Measure one case in this process."""
    from benchmarks.timing import device_info, device_peak_mb, peak_rss_mb, time_call
    from causalda_jax import augment
    from causalda_jax.reference import augment_numpy

    data, graph = make_data(case["n"], case["d"], case["structure"])
    kw = dict(threshold=case["threshold"], bandwidth_scale=case["scale"])
    if case["engine"] == "jax":
        fn = lambda: augment(data, graph, **kw)  # noqa: E731
        repeats = case.get("repeats", 3)
    else:
        fn = lambda: augment_numpy(data, graph, **kw)  # noqa: E731
        repeats = case.get("repeats", 1)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = time_call(fn, repeats=repeats)
    aug = timing.pop("result")
    candidates = _candidates(data, graph, kw)
    return {
        **case,
        "status": "ok",
        **timing,
        "rows": len(aug),
        "mass": aug.mass,
        "effective_sample_size": aug.effective_sample_size,
        "candidates": candidates,
        "candidates_per_s": candidates / timing["steady_s"] if timing["steady_s"] > 0 else None,
        "paths": [s["path"] for s in aug.config.get("steps", [])],
        "pruned_fraction": aug.config.get("pruned_fraction"),
        "fallback_rows": sum(s.get("fallback_rows", 0) for s in aug.config.get("steps", [])),
        "peak_rss_mb": peak_rss_mb(),
        **(device_peak_mb() if case["engine"] == "jax" else {}),
        "device": device_info(),
    }


def _candidates(data, graph, kw) -> int:
    """Candidate rows scored: the sum over steps of kept rows × n (from a progress callback)."""
    import warnings

    from causalda_jax import augment

    kept = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        augment(data, graph, progress=lambda step, total, name, rows: kept.append(rows), **kw)
    before = [1] + kept[:-1]
    return int(sum(b * len(data) for b in before))


def grid(args) -> list[dict]:
    if args.target:
        base = [dict(n=1000, d=6, threshold=1e-3, scale=0.1, structure=s) for s in ("chain", "dag")]
    elif args.n5000:
        base = [dict(n=5000, d=10, threshold=1e-3, scale=0.1, structure="dag")]
    elif args.quick:
        base = [dict(n=n, d=6, threshold=1e-2, scale=1.0, structure="dag") for n in (200, 500)]
    else:
        base = [
            dict(n=n, d=d, threshold=t, scale=s, structure="dag")
            for n, d, t, s in itertools.product((200, 500, 1000, 2000), (6, 10), (1e-2, 1e-3), (1.0, 1e-3))
        ]
    if args.sizes:
        base = [c for c in base if c["n"] in {int(v) for v in args.sizes.split(",")}]
    return [{**c, "engine": e} for c in base for e in ("jax", "numpy")]


def markdown(results: list[dict]) -> str:
    lines = [
        "| n | d | θ | τ | graph | JAX steady s | JAX compile s | numpy s | speed-up | rows | mass | pruned | JAX peak MB | numpy peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    key = lambda r: (r["n"], r["d"], r["threshold"], r["scale"], r["structure"])  # noqa: E731
    by_case: dict = {}
    for r in results:
        by_case.setdefault(key(r), {})[r["engine"]] = r
    for k, pair in sorted(by_case.items()):
        j, p = pair.get("jax", {}), pair.get("numpy", {})
        fmt = lambda r, f: (f"{r[f]:.3g}" if r.get("status") == "ok" else r.get("status", "-"))  # noqa: E731
        speed = f"{p['steady_s'] / j['steady_s']:.1f}×" if j.get("status") == p.get("status") == "ok" else "-"
        lines.append(
            f"| {k[0]} | {k[1]} | {k[2]:g} | {k[3]:g} | {k[4]} | {fmt(j, 'steady_s')} | {fmt(j, 'compile_s')} | "
            f"{fmt(p, 'steady_s')} | {speed} | {j.get('rows', '-')} | "
            f"{j['mass']:.3g} | {j.get('pruned_fraction') or 0:.0%} | {fmt(j, 'peak_rss_mb')} | {fmt(p, 'peak_rss_mb')} |"
            if j.get("status") == "ok" else f"| {k[0]} | {k[1]} | {k[2]:g} | {k[3]:g} | {k[4]} | {j.get('status')} | | {fmt(p, 'steady_s')} | | | | | | |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", help="internal: run one JSON case in this process")
    parser.add_argument("--target", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n5000", action="store_true")
    parser.add_argument("--sizes", default=None, help="comma-separated n: only these rows of the grid")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per (engine, case)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(json.loads(args.case)), default=float))
        return
    from benchmarks.timing import run_isolated

    name = ("augment_target" if args.target else "augment_quick" if args.quick
            else "augment_n5000_cpu" if args.n5000 else "augment_grid")
    out = Path(args.out) if args.out else RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results = []
    for case in grid(args):
        r = run_isolated("benchmarks.augment_grid", case, args.timeout)
        results.append(r)
        print(json.dumps({k: r.get(k) for k in ("engine", "n", "d", "threshold", "scale", "structure", "status",
                                                 "steady_s", "compile_s", "rows", "peak_rss_mb")}, default=str),
              file=sys.stderr, flush=True)
        out.write_text(json.dumps(results, indent=1, default=float))
    out.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
