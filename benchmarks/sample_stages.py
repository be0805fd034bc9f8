"""Where a pruned sampling draw spends its time: each stage of one variable's leaf and row choice, timed alone.

    CAUSALDA_NO_COMPILE_CACHE=1 python -m benchmarks.sample_stages          # n = 100,000, d = 20, τ = 0.1
    CAUSALDA_NO_COMPILE_CACHE=1 python -m benchmarks.sample_stages --tau 1

One chunk of 1,024 samples and one two-column variable of ``benchmarks.augment_grid.make_data``;
the samples' pillow values are training rows (so most choices reach the candidate stage, as
``stages`` in the JSON shows). Each stage is jitted on its own; times are the minimum of 10
calls after a compiling one, and ``s_per_1e6_samples`` scales them to 10⁶ samples of 19
non-root variables. Run with the export cache off, or a stored program may be timed instead.
Writes benchmarks/results/sample_stages.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tau", type=float, default=0.1)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args(argv)

    import jax
    import jax.numpy as jnp

    import causalda_jax._draw_chunk as DC
    import causalda_jax._leaf_choice as LC
    import causalda_jax._sample as S
    from benchmarks.augment_grid import make_data
    from benchmarks.timing import device_info
    from causalda_jax._noise import gumbel, materialized
    from causalda_jax._plan import make_plan

    data, graph = make_data(args.n, 20, "dag")
    plan = make_plan(data, graph, threshold=0.0, normalize_threshold=True, kernel="gaussian",
                     bandwidth="normal_reference", bandwidth_scale=args.tau, categorical=None)
    layout = S._layout(plan, 10**6, 1, neighbors=None, chunk_size=None, row_chunk_size=None)
    inputs = S._draw_inputs(plan, layout, 0.0)
    config = layout.config
    t = next(i for i, p in enumerate(plan.pillows) if len(p) == 2)
    step = jax.tree.map(lambda a: a[t], inputs.steps)
    b = layout.chunk
    rows = np.random.default_rng(0).integers(0, plan.table.n, size=b)
    pillow = DC._pillow_view(step, jnp.asarray(np.asarray(inputs.x)[rows]), inputs)
    boxes = LC.LeafBoxes(step.lo, step.hi, step.mean, step.var)
    key = jnp.array([1, 2], jnp.uint32)
    s = jnp.arange(b, dtype=jnp.uint32)
    ids = jax.lax.broadcasted_iota(jnp.int32, (b, boxes.lo.shape[0]), 1)
    scale = 19 * (10**6 / b) / 1e3

    def timed(fn, *args) -> float:
        fn = jax.jit(fn)
        jax.block_until_ready(fn(*args))
        times = []
        for _ in range(10):
            start = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times.append(time.perf_counter() - start)
        return min(times) * 1e3

    leaf = jax.jit(lambda p, s: LC.choose_leaf_pruned(key, s, p, boxes, inputs.n_rows, config))
    leaf_id, _, stage = leaf(pillow, s)
    stages = {
        "leaf_choice": timed(lambda p, s: LC.choose_leaf_pruned(key, s, p, boxes, inputs.n_rows, config), pillow, s),
        "upper_bounds": timed(lambda p: LC.leaf_bounds(p.z, boxes.lo, boxes.hi, p.hp, p.cp, config.kernel), pillow),
        "lower_bounds": timed(lambda p: LC.leaf_lower_bounds(p, boxes, config.kernel), pillow),
        "every_leaf_noise": timed(lambda s: materialized(lambda: gumbel(key, s, ids), jnp.zeros(ids.shape, jnp.float32),
                                                         jnp.int32(1)), s),
        "row_choice": timed(lambda p, s, l: LC.choose_in_leaf(key, s, p, l, inputs.n_rows, config), pillow, s, leaf_id),
    }
    result = {
        "n": args.n, "d": 20, "bandwidth_scale": args.tau, "samples": b, "leaves": int(boxes.lo.shape[0]),
        "stages": dict(zip(("none", "bounds", "candidates", "full"), np.bincount(np.asarray(stage), minlength=4).tolist())),
        "ms_per_chunk": stages, "s_per_1e6_samples": {k: v * scale for k, v in stages.items()}, "device": device_info(),
    }
    out = RESULTS / "sample_stages.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
