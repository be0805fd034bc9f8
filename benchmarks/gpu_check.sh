#!/usr/bin/env bash
# The accelerator checks of the benchmark suite, as one prepared command for a lent GPU machine.
#
#   bash benchmarks/gpu_check.sh [OUT]     # OUT defaults to benchmarks/results/gpu
#
# Runs in the repository root with the machine's own Python (jax with CUDA, numpy, pandas,
# networkx, equinox, optax, jaxtyping, scipy); the package is imported from the source tree, so
# nothing is installed. Stage limits keep the whole run under 10 minutes:
#   1. python -m benchmarks.run --gpu         augment n ∈ {1000, 2000, 5000} × d ∈ {6, 10} and
#      sample n ∈ {1e3, 1e4, 1e5} × d ∈ {5, 20} with 1e6 samples, against the stored CPU numpy
#      baseline (suite_baseline_cpu.json); each augment case records the path of every step
#      (numpy / interval / scored / pruned) and the fraction of candidates the bounds pruned
#   1b. the bound-pruned augment step against the numpy twin (same rows, weights to 1e-10) at
#      bandwidth scale 0.1 and 0.05, n = 1,000, d = 6
#   2. python -m benchmarks.sample_large --full   n = 100,000, d = 20: 1e6 samples from the
#      bound-pruned exact sampler at bandwidth scale 1 and 0.1, the full scan (the same draws)
#      on 2,000 samples at each, leaf-choice counts, peak host memory, truncation error
#   3. python -m benchmarks.compile_cache --quick   compile time of a first and a second process
#      (persistent compilation cache) for causalda augment / sample
#   4. python -m benchmarks.sample_stages   the pruned sampler's stages timed alone (n = 100,000)
set -uo pipefail
out="${1:-${OUT:-benchmarks/results/gpu}}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c "import jax; print(jax.__version__, jax.devices())" 2>&1 | tee "$out/devices.log"
timeout 240 python3 -m benchmarks.run --gpu --timeout 120 --out "$out" 2>&1 | tee "$out/suite.log"
timeout 50 python3 - <<'PY' 2>&1 | tee "$out/augment_pruned_check.log"
import warnings, numpy as np
warnings.simplefilter("ignore")
from benchmarks.augment_grid import make_data
from causalda_jax import augment
from causalda_jax.reference import augment_numpy
data, graph = make_data(1000, 6, "dag")
for scale in (0.1, 0.05):
    a = augment(data, graph, threshold=1e-3, bandwidth_scale=scale)
    b = augment_numpy(data, graph, threshold=1e-3, bandwidth_scale=scale)
    same = np.array_equal(a.source_rows, b.source_rows) and np.allclose(a.log_weights, b.log_weights, rtol=1e-10)
    print(f"scale {scale}: rows {len(a)} vs {len(b)}, identical {same}, pruned {a.config['pruned_fraction']:.2f},",
          "paths", [s["path"] for s in a.config["steps"]], "fallbacks", sum(s.get("fallback_rows", 0) for s in a.config["steps"]))
PY
timeout 170 python3 -m benchmarks.sample_large --full --timeout 90 --out "$out" 2>&1 | tee "$out/sample_full.log"
timeout 90 python3 -m benchmarks.compile_cache --quick --out "$out" 2>&1 | tee "$out/compile_cache.log"
CAUSALDA_NO_COMPILE_CACHE=1 timeout 40 python3 -m benchmarks.sample_stages 2>&1 | tee "$out/sample_stages.log"
ls -l "$out"
