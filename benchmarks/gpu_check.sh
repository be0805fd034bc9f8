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
#      baseline (suite_baseline_cpu.json)
#   2. python -m benchmarks.sample_large --full   n = 100,000, d = 20: 1e6 samples from the
#      bound-pruned exact sampler at bandwidth scale 1 and 0.1, the full scan (the same draws)
#      on 2,000 samples at each, leaf-choice counts, peak host memory, truncation error
#   3. python -m benchmarks.compile_cache --quick   compile time of a first and a second process
#      (persistent compilation cache) for causalda augment / sample
set -uo pipefail
out="${1:-${OUT:-benchmarks/results/gpu}}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c "import jax; print(jax.__version__, jax.devices())" 2>&1 | tee "$out/devices.log"
timeout 290 python3 -m benchmarks.run --gpu --timeout 120 --out "$out" 2>&1 | tee "$out/suite.log"
timeout 200 python3 -m benchmarks.sample_large --full --timeout 90 --out "$out" 2>&1 | tee "$out/sample_full.log"
timeout 90 python3 -m benchmarks.compile_cache --quick --out "$out" 2>&1 | tee "$out/compile_cache.log"
ls -l "$out"
