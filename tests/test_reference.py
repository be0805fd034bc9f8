"""The numpy sampler (the CPU baseline of the benchmarks) draws from the exact factorization."""

import numpy as np
import pandas as pd
import pytest

from causalda_jax import CausalGraph, augment
from causalda_jax.reference import sample_numpy


@pytest.mark.slow
def test_sample_numpy_frequencies_match_exact_weights():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=4), "b": rng.normal(size=4), "c": rng.normal(size=4)})
    g = CausalGraph(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")])
    exact = augment(df, g, threshold=0.0)  # 64 index tuples, no ties: one row each
    m = 200_000
    idx = sample_numpy(df, g, m, seed=1)
    codes = idx[:, 0] * 16 + idx[:, 1] * 4 + idx[:, 2]
    counts = np.bincount(codes, minlength=64)
    src = exact.source_rows
    p = np.zeros(64)
    p[src[:, 0] * 16 + src[:, 1] * 4 + src[:, 2]] = exact.weights
    # Per-cell binomial bound at 5 standard deviations: a false failure has probability < 1e-4.
    sd = np.sqrt(m * p * (1 - p))
    assert np.all(np.abs(counts - m * p) <= 5 * sd + 1)
