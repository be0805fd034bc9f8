"""The JAX sampler vs the package's numpy sampler over training rows n, variables d and sample counts.

    python -m benchmarks.sample_grid --case '{"engine": "jax", "n": 1000, "d": 10, "samples": 100000}'

Used by ``python -m benchmarks.run``; one case per process so that peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import warnings


def run_case(case: dict) -> dict:
    from benchmarks.augment_grid import make_data
    from benchmarks.timing import device_info, device_peak_mb, peak_rss_mb, time_call
    from causalda_jax import sample
    from causalda_jax.reference import sample_numpy

    data, graph = make_data(case["n"], case["d"], case.get("structure", "dag"))
    m = case["samples"]
    if case["engine"] == "jax":
        fn = lambda: sample(data, graph, m, seed=0, return_indices=True)[1]  # noqa: E731
        repeats = case.get("repeats", 3)
    else:
        fn = lambda: sample_numpy(data, graph, m, seed=0)  # noqa: E731
        repeats = case.get("repeats", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = time_call(fn, repeats=repeats)
    timing.pop("result")
    pillow_cols = sum(len(graph.markov_pillow(v)) > 0 for v in graph.nodes)
    kernel_evals = m * case["n"] * pillow_cols
    device = device_info()
    memory = device_peak_mb() if case["engine"] == "jax" else {}
    return {
        **case,
        "status": "ok",
        **timing,
        "kernel_evals": kernel_evals,
        "kernel_evals_per_s": kernel_evals / timing["steady_s"],
        "samples_per_s": m / timing["steady_s"],
        "peak_rss_mb": peak_rss_mb(),
        **memory,
        "device": device,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", required=True)
    args = parser.parse_args(argv)
    print(json.dumps(run_case(json.loads(args.case)), default=float))


if __name__ == "__main__":
    main()
