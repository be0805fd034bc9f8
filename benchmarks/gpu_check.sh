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
#   2. python -m benchmarks.sample_large --full   1e6 samples from n = 100,000, d = 20: exact and
#      truncated, peak host memory, truncation error
set -uo pipefail
out="${1:-${OUT:-benchmarks/results/gpu}}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c "import jax; print(jax.__version__, jax.devices())" 2>&1 | tee "$out/devices.log"
timeout 330 python3 -m benchmarks.run --gpu --timeout 120 --out "$out" 2>&1 | tee "$out/suite.log"
timeout 240 python3 -m benchmarks.sample_large --full --timeout 100 --out "$out" 2>&1 | tee "$out/sample_full.log"
ls -l "$out"
