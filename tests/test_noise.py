"""Tests for the sampler's counter-based noise (causalda_jax._noise).

The cipher is checked bit for bit against ``jax.random``'s Threefry primitive, the derived
distributions against scipy (Kolmogorov-Smirnov at level 1e-4, each with a power check), the
64-bit index arithmetic against Python integers, and the batching claim directly: a sample's
words do not depend on which other samples share its batch.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from causalda_jax import _noise as N

ALPHA = 1e-4


def test_hash_is_jax_threefry():
    from jax.extend.random import threefry2x32_p

    rng = np.random.default_rng(3)
    words = [jnp.asarray(rng.integers(0, 2**32, size=(64, 8), dtype=np.uint64).astype(np.uint32)) for _ in range(4)]
    for want, got in zip(threefry2x32_p.bind(*words), N.hash_pairs(*words)):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_column_keys_are_jax_random_keys():
    """Column ``j``'s two keys are ``jax.random.split(jax.random.fold_in(key, j))``, as documented."""
    key = jax.random.key(11)
    got = np.asarray(N.column_keys(key, d=5))
    for j in range(5):
        want = np.asarray(jax.random.key_data(jax.random.split(jax.random.fold_in(key, j))))
        np.testing.assert_array_equal(got[j], want)


def test_gumbel_distribution():
    """Gumbel noise of distinct counters is standard Gumbel; a shift of 0.02 is detected."""
    key = jnp.asarray([123, 456], jnp.uint32)
    s = jnp.arange(400, dtype=jnp.uint32)
    m = jnp.broadcast_to(jnp.arange(500, dtype=jnp.int32), (400, 500))
    g = np.asarray(jax.jit(N.gumbel)(key, s, m), np.float64).ravel()
    assert stats.kstest(g, stats.gumbel_r.cdf).pvalue > ALPHA
    assert stats.kstest(g + 0.02, stats.gumbel_r.cdf).pvalue < ALPHA  # power


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
def test_kernel_noise_distribution(kernel):
    y = jax.random.bits(jax.random.key(0), (2, 100_000), jnp.uint32)
    e = np.asarray(jax.jit(N.kernel_noise, static_argnames="kernel")(y[0], y[1], kernel), np.float64)
    if kernel == "gaussian":
        cdf = stats.norm.cdf
    else:
        def cdf(t):
            t = np.clip(t, -1, 1)
            return (2 + 3 * t - t**3) / 4
    assert stats.kstest(e, cdf).pvalue > ALPHA
    assert stats.kstest(1.05 * e, cdf).pvalue < ALPHA  # power: a 5% wider law is rejected


def test_uniform_index_is_exact_64_bit_arithmetic():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2**32, size=(2, 2000), dtype=np.uint64)
    y[:, :4] = [[0, 2**32 - 1, 2**32 - 1, 2**31], [0, 2**32 - 1, 0, 2**32 - 1]]
    for n in (1, 6, 100_000, 2**31 - 1):
        got = np.asarray(N.uniform_index(jnp.asarray(y[0], jnp.uint32), jnp.asarray(y[1], jnp.uint32), jnp.int32(n)))
        want = [((int(a) << 32) + int(b)) * n >> 64 for a, b in zip(y[0], y[1])]
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("smooth", [False, True])
def test_words_do_not_depend_on_the_batch(smooth):
    """Samples 0..999 in one batch, in uneven chunks, and shuffled: every sample gets the same words."""
    keys = N.column_keys(jax.random.key(5), d=3)
    n_rows = jnp.int32(77)
    words = jax.jit(N.sample_words, static_argnames=("kernel", "smooth"))
    ids = np.arange(1000, dtype=np.uint32)
    whole = words(keys, jnp.asarray(ids), n_rows, kernel="gaussian", smooth=smooth)
    chunks = [words(keys, jnp.asarray(c), n_rows, kernel="gaussian", smooth=smooth)
              for c in np.split(ids, [1, 300, 301, 777])]
    perm = np.random.default_rng(0).permutation(1000)
    shuffled = words(keys, jnp.asarray(ids[perm]), n_rows, kernel="gaussian", smooth=smooth)
    for field in ("root_pick", "noise") if smooth else ("root_pick",):
        want = np.asarray(getattr(whole, field))
        np.testing.assert_array_equal(np.concatenate([np.asarray(getattr(c, field)) for c in chunks]), want)
        np.testing.assert_array_equal(np.asarray(getattr(shuffled, field)), want[perm])
    picks = np.asarray(whole.root_pick)
    assert picks.min() >= 0 and picks.max() < 77 and np.unique(picks[:, 0]).size == 77
    # Leaf/row Gumbels: the same invariance for a (sample, counter) grid.
    m = jnp.broadcast_to(jnp.arange(16, dtype=jnp.int32), (1000, 16))
    g = np.asarray(N.gumbel(keys[0, 0], jnp.asarray(ids), m))
    np.testing.assert_array_equal(np.asarray(N.gumbel(keys[0, 0], jnp.asarray(ids[perm]), m)), g[perm])
