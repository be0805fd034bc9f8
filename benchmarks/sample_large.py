"""Large-n ancestral sampling: time, throughput and peak memory of the bound-pruned exact sampler, the
full-scan exact sampler and the truncated mode, at two bandwidths; the truncated mode's error.

    python -m benchmarks.sample_large            # what a CPU can measure (fewer samples; see "extrapolated")
    python -m benchmarks.sample_large --full     # n = 100,000, d = 20, 1,000,000 pruned samples at τ = 1 and 0.1
    python -m benchmarks.sample_large --quick    # a smoke run

A case's ``candidates`` is the pruned sampler's candidate-leaf count (``0``: the full scan over
every leaf for every draw, the exact sampler without pruning; both draw the same samples);
``sampling`` holds how its leaf choices were decided (bounds, candidates, full scans).

Writes benchmarks/results/sample_large.json (sample_full.json, sample_quick.json). Every timed
case runs in a fresh process, so its peak resident memory is its own. Data: the nonlinear DAG
of ``benchmarks.augment_grid.make_data`` (one root, one or two parents per variable). The
cost of the exact sampler is one kernel-and-noise evaluation per (sample, training row,
non-root variable): ``pairs`` below.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
TARGET_SAMPLES = 1_000_000


def _prepare_s(data, graph, tau: float = 1.0) -> float:
    """Seconds of host-side preparation: the plan and one k-d tree leaf order per variable."""
    import time

    from causalda_jax import _sample as S
    from causalda_jax._plan import make_plan

    start = time.perf_counter()
    plan = make_plan(data, graph, threshold=0.0, normalize_threshold=False, kernel="gaussian",
                     bandwidth="normal_reference", bandwidth_scale=tau, categorical=None)
    x = S._scaled_values(plan)
    S._steps(plan, np.pad(x, ((0, -len(x) % S._LEAF), (0, 0))), S._LEAF)
    return time.perf_counter() - start


def run_case(case: dict) -> dict:
    """Time one sampling case in this process (steady state: minimum over ``repeats`` calls)."""
    import time

    import jax

    from benchmarks.augment_grid import make_data
    from benchmarks.timing import device_info, peak_rss_mb
    from causalda_jax import _sample as S
    from causalda_jax._sample import _SAMPLE_BLOCK, sample

    if "candidates" in case:
        S._CANDIDATE_LEAVES = case["candidates"]
    data, graph = make_data(case["n"], case["d"], "dag")
    tau = case.get("bandwidth_scale", 1.0)
    kw = {"neighbors": case.get("neighbors"), "bandwidth_scale": tau}
    # Compile on one chunk first (same chunk shape as the timed calls, which then only run).
    warm_samples = min(case["samples"], _SAMPLE_BLOCK["cpu" if jax.default_backend() == "cpu" else "other"])
    start = time.perf_counter()
    sample(data, graph, warm_samples, seed=0, **kw)
    first = time.perf_counter() - start
    times = []
    for _ in range(case.get("repeats", 1)):
        start = time.perf_counter()
        out = sample(data, graph, case["samples"], seed=0, **kw)  # returns host data: synchronised
        times.append(time.perf_counter() - start)
    steady = min(times)
    prepare = _prepare_s(data, graph, tau)
    draw = max(steady - prepare, 1e-9)
    non_roots = sum(1 for v in graph.nodes if graph.parents(v))
    pairs = case["samples"] * case["n"] * non_roots
    return {
        **case,
        "status": "ok",
        "first_chunk_s": first,
        "compile_s": max(0.0, first - prepare - draw * warm_samples / case["samples"]),
        "steady_s": steady,
        "prepare_s": prepare,
        "draw_s": draw,
        "times_s": times,
        "non_root_variables": non_roots,
        "pairs": pairs,
        "ns_per_pair": draw / pairs * 1e9,
        "samples_per_s": case["samples"] / draw,
        f"extrapolated_s_for_{TARGET_SAMPLES}_samples": prepare + draw * TARGET_SAMPLES / case["samples"],
        "peak_rss_mb": peak_rss_mb(),
        "output_shape": list(out.shape),
        "candidates": S._CANDIDATE_LEAVES if not case.get("neighbors") else None,
        "sampling": out.attrs.get("sampling"),
        "device": device_info(),
    }


def truncation_error(
    n: int = 20_000, d: int = 10, samples: int = 20_000, ks=(128, 512, 2048, 8192), taus=(1.0, 0.1)
) -> dict:
    """Error of ``neighbors=k`` against the exact sampler, on the exact sampler's own draws.

    Truncation replaces each conditional ``w(z)`` by ``w`` restricted to the rows of its
    candidate leaves and renormalised, whose total-variation distance to ``w`` is exactly the
    mass left out, ``1 - Σ_candidates w_i``. It is computed in float64 for sampled pillow
    values ``z`` (the candidates re-derived here from the leaves' boxes) and every non-root
    variable. Per-step TVs add up to a bound on the TV of the whole joint (coupling). Also
    reported: the largest gap in column means and correlations between exact and truncated
    samples (in standard deviations of the data), next to the gap between two exact runs.
    Repeated for each bandwidth scale ``τ`` in ``taus``: the smaller the bandwidth, the fewer
    rows a conditional spreads over, and the smaller the error of a given ``k``.
    """
    from benchmarks.augment_grid import make_data

    data, graph = make_data(n, d, "dag")
    return {"n": n, "d": d, "samples": samples, "by_tau": {str(tau): _truncation_error_at(data, graph, samples, ks, tau)
                                                           for tau in taus}}


def _truncation_error_at(data, graph, samples: int, ks, tau: float) -> dict:
    from causalda_jax import _sample as S
    from causalda_jax._plan import make_plan
    from causalda_jax._sample import sample
    from causalda_jax.reference import log_conditional_weights_numpy

    n = len(data)
    plan = make_plan(data, graph, threshold=0.0, normalize_threshold=False, kernel="gaussian",
                     bandwidth="normal_reference", bandwidth_scale=tau, categorical=None)
    x = plan.table.values
    leaf = S._LEAF
    scaled = np.pad(S._scaled_values(plan), ((0, -n % leaf), (0, 0)))
    _, _, _, _, perm, lo, hi, _, _ = S._steps(plan, scaled, leaf)
    exact, idx = sample(data, graph, samples, seed=1, bandwidth_scale=tau, return_indices=True)
    sub = idx[: min(samples, 2000)]
    out = {"bandwidth_scale": tau, "leaf": leaf, "tv_samples": len(sub), "by_k": {}}
    sd = data.std().to_numpy()
    count = np.clip(n - leaf * np.arange(lo.shape[1]), 0, leaf)
    for k in ks:
        n_leaves = -(-k // leaf)
        if n_leaves * leaf >= n:
            continue  # every row is a candidate: the exact sampler
        step_tv = []
        for t, pillow in enumerate(plan.pillows):
            if not pillow:
                continue
            p = list(pillow)
            z = np.stack([x[sub[:, c], c] for c in p], axis=1)
            zs = np.stack([scaled[sub[:, c], c] for c in p], axis=1).astype(np.float64)
            box_lo, box_hi = lo[t][:, : len(p)].astype(np.float64), hi[t][:, : len(p)].astype(np.float64)
            gap = np.maximum(np.maximum(box_lo[None] - zs[:, None], zs[:, None] - box_hi[None]), 0.0)
            with np.errstate(divide="ignore"):
                bound = np.log(count)[None] - 0.5 * (gap**2).sum(axis=2)
            top = np.argsort(-bound, axis=1, kind="stable")[:, :n_leaves]
            member = np.zeros((len(sub), n), bool)
            for j in range(n_leaves):
                rows = perm[t][top[:, j, None] * leaf + np.arange(leaf)]
                member[np.arange(len(sub))[:, None], np.minimum(rows, n - 1)] |= rows < n
            log_w = log_conditional_weights_numpy(z, x[:, p], plan.h[p], plan.table.is_categorical[p], "gaussian")
            step_tv.append(1.0 - np.where(member, np.exp(log_w), 0.0).sum(axis=1))
        tv = np.stack(step_tv, axis=1)
        trunc = sample(data, graph, samples, seed=1, bandwidth_scale=tau, neighbors=k)
        mean_gap = np.abs(trunc.mean().to_numpy() - exact.mean().to_numpy()) / sd
        corr_gap = np.abs(trunc.corr().to_numpy() - exact.corr().to_numpy())
        out["by_k"][str(k)] = {
            "candidate_leaves": n_leaves,
            "step_tv_mean": float(tv.mean()),
            "step_tv_max": float(tv.max()),
            "joint_tv_bound_mean": float(tv.sum(axis=1).mean()),
            "max_mean_gap_sd": float(mean_gap.max()),
            "max_corr_gap": float(corr_gap.max()),
        }
    # The sampling noise floor of those gaps: two exact runs with different seeds.
    other = sample(data, graph, samples, seed=2, bandwidth_scale=tau)
    out["exact_vs_exact"] = {
        "max_mean_gap_sd": float((np.abs(other.mean().to_numpy() - exact.mean().to_numpy()) / sd).max()),
        "max_corr_gap": float(np.abs(other.corr().to_numpy() - exact.corr().to_numpy()).max()),
    }
    return out


def main() -> None:
    from benchmarks.timing import device_info, run_isolated

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", help="internal: run one case (JSON) and print its result")
    parser.add_argument("--full", action="store_true", help="n=100,000, d=20: 1,000,000 pruned samples at τ = 1 and 0.1, the full scan on fewer")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per case")
    parser.add_argument("--out", default=None, help="output folder (default benchmarks/results)")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case)), default=str))
        return
    big = {"n": 100_000, "d": 20}
    if args.full:
        name, tv = "sample_full", {}
        cases = [
            {**big, "samples": 2_000, "candidates": 0},
            {**big, "samples": TARGET_SAMPLES},
            {**big, "samples": 2_000, "candidates": 0, "bandwidth_scale": 0.1},
            {**big, "samples": TARGET_SAMPLES, "bandwidth_scale": 0.1},
        ]
    elif args.quick:
        name, tv = "sample_quick", dict(n=2000, samples=4000, ks=(128, 512), taus=(1.0, 0.1))
        cases = [
            {"n": 2000, "d": 10, "samples": 2000, "candidates": 0},
            {"n": 2000, "d": 10, "samples": 2000},
            {"n": 2000, "d": 10, "samples": 2000, "neighbors": 256},
        ]
    else:
        name, tv = "sample_large", {}
        cases = []
        for tau in (1.0, 0.1):
            # The training-row axis at full size; fewer samples (time is linear in them).
            cases += [
                {**big, "samples": 1_000, "candidates": 0, "bandwidth_scale": tau},
                {**big, "samples": 10_000, "bandwidth_scale": tau},
                {**big, "samples": 10_000, "neighbors": 256, "bandwidth_scale": tau},
            ]
        # The sample axis at full size: a million samples, on a small training set.
        cases.append({"n": 100, "d": 20, "samples": TARGET_SAMPLES})
    results = []
    for case in cases:
        print(f"running {case} ...", file=sys.stderr, flush=True)
        results.append(run_isolated("benchmarks.sample_large", case, args.timeout))
        print(json.dumps(results[-1], default=str)[:400], file=sys.stderr, flush=True)

    def config(r):
        return r["n"], r["d"], r.get("bandwidth_scale", 1.0)

    exact = {config(r): r for r in results if r.get("status") == "ok" and r.get("candidates") == 0}
    for r in results:
        base = exact.get(config(r))
        if base and r is not base and r.get("status") == "ok":
            # Per sample, preparation excluded: the two cases may draw different numbers.
            r["speedup_vs_exact"] = r["samples_per_s"] / base["samples_per_s"]
    print("measuring truncation error ...", file=sys.stderr, flush=True)
    report = {"device": device_info(), "cases": results, "truncation_error": truncation_error(**tv)}
    out_dir = Path(args.out) if args.out else RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
