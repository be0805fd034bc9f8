"""Differentiable augmentation weights: exact reproduction, brute force, identities, gradients.

Oracles: the weights ``augment`` itself returned; a numpy brute force that enumerates every index
tuple, weighs it with kernels written out here, and merges tuples by value; the identity
``Σ w = 1`` without pruning; central finite differences for the gradient.
"""

import dataclasses
import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import causalda_jax as cda
from causalda_jax._differentiable import DifferentiableAugmentation, augmentation_log_weights

# Every test compiles the weights of a fresh augmentation: the file takes minutes.
pytestmark = pytest.mark.slow

DAG = {"directed": [["x", "y"], ["y", "z"], ["x", "z"]]}
# z's Markov pillow is {x, y}: district {x, z} plus parents of the district.
ADMG = {"directed": [["x", "y"], ["y", "z"]], "bidirected": [["x", "z"]]}
GRAPHS = {"dag": DAG, "admg": ADMG}


def _continuous(rng, n):
    x = rng.normal(size=n)
    y = np.sin(2 * x) + 0.3 * rng.normal(size=n)
    z = x - y + 0.3 * rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y, "z": z})


def _with_ties(rng, n):
    # x: continuous with repeated values; y: categorical strings; z: continuous.
    x = rng.integers(0, 3, size=n).astype(float)
    y = np.where(x + rng.normal(size=n) > 1.0, "hi", "lo")
    z = x + (y == "hi") + 0.5 * rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": pd.Series(y, dtype="category"), "z": z})


def _brute_force(da: DifferentiableAugmentation, h: np.ndarray) -> dict:
    """Value-row weights of the unpruned augmentation: enumerate every index tuple, merge by value."""
    x = np.asarray(da.values)
    cat = np.asarray(da.is_categorical)
    n, d = x.shape

    def profile(u):
        if da.kernel == "gaussian":
            return np.exp(-0.5 * u * u)
        return np.maximum(1.0 - u * u, 0.0)

    merged: dict = {}
    for tup in itertools.product(range(n), repeat=d):
        vals = x[list(tup), np.arange(d)]
        w = 1.0
        for v, pillow in zip(da.order, da.pillows):
            k = np.ones(n)
            for p in pillow:
                k *= (x[:, p] == vals[p]) if cat[p] else profile((vals[p] - x[:, p]) / h[p])
            w *= k[tup[v]] / k.sum() if k.sum() > 0 else 0.0
        merged[tuple(vals)] = merged.get(tuple(vals), 0.0) + w
    return merged


# Compilation dominates the cost of these tests: they share one training table, one augmentation
# per graph, and one jitted gradient, so each shape is compiled once per process.
N_TRAIN = 20
BLOCK = 7


@pytest.fixture(scope="module")
def train():
    return _continuous(np.random.default_rng(0), N_TRAIN)


@pytest.fixture(scope="module")
def augmented(train):
    return {name: cda.augment(train, graph, threshold=1e-2) for name, graph in GRAPHS.items()}


@eqx.filter_jit
@eqx.debug.assert_max_traces(max_traces=1)
def _loss_and_grad(da, target, log_scale, log_h):
    """A validation-style loss ``Σ w t / Σ w`` and its gradient in (log τ, log h)."""

    def loss(s, lh):
        w = da.weights(s, lh)
        return jnp.sum(w * target) / jnp.sum(w)

    return jax.value_and_grad(loss, argnums=(0, 1))(log_scale, log_h)


def _admg_problem(train, augmented):
    aug = augmented["admg"]
    da = DifferentiableAugmentation.from_augmented(aug, train, block_size=BLOCK)
    assert len(aug) % BLOCK != 0  # the last block is padded
    target = jnp.asarray(np.random.default_rng(1).normal(size=len(aug)))
    return da, target


@pytest.mark.parametrize("name", ["dag", "admg"])
def test_reproduces_augment_weights_with_pruning(x64, train, augmented, name):
    aug = augmented[name]
    assert aug.mass < 0.9  # pruning is active, so the support is a real mask
    da = DifferentiableAugmentation.from_augmented(aug, train)
    np.testing.assert_allclose(np.asarray(da.log_weights()), aug.log_weights, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(da.rows), train.to_numpy()[np.asarray(aug.source_rows), np.arange(3)])
    assert da.initial_log_scale == 0.0


def test_gradient_matches_central_differences(x64, train, augmented):
    da, target = _admg_problem(train, augmented)
    s0, h0 = jnp.asarray(0.2), jnp.array([0.1, -0.2, 0.05])
    _, (g_scale, g_h) = _loss_and_grad(da, target, s0, h0)

    def loss(s, lh):
        # The compiled value, so that no second program is compiled for the finite differences.
        return float(_loss_and_grad(da, target, jnp.asarray(s), jnp.asarray(lh))[0])

    eps = 1e-5
    fd_scale = (loss(s0 + eps, h0) - loss(s0 - eps, h0)) / (2 * eps)
    e = np.eye(3) * eps
    fd_h = np.array([(loss(s0, h0 + e[j]) - loss(s0, h0 - e[j])) / (2 * eps) for j in range(3)])
    # Central differences: truncation O(eps²) ≈ 1e-10, rounding ≈ 1e-16 / eps ≈ 1e-11.
    assert abs(float(g_scale)) > 1e-3
    np.testing.assert_allclose(float(g_scale), fd_scale, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.asarray(g_h), fd_h, rtol=1e-6, atol=1e-9)
    # τ multiplies every bandwidth, so its gradient is the sum of the per-column ones.
    np.testing.assert_allclose(float(g_scale), float(jnp.sum(g_h)), rtol=1e-10)
    # z is a sink: its bandwidth conditions nothing.
    assert float(g_h[2]) == 0.0


def test_no_retrace_across_bandwidths_and_rows_of_equal_shape(x64, train, augmented):
    da, target = _admg_problem(train, augmented)
    for s in (-0.5, 0.0, 0.7):
        value, _ = _loss_and_grad(da, target, jnp.asarray(s), jnp.zeros(3))
        assert np.isfinite(float(value))
    shuffled = eqx.tree_at(lambda m: m.source_rows, da, da.source_rows[::-1])
    _loss_and_grad(shuffled, target[::-1], jnp.asarray(0.1), jnp.ones(3))
    assert eqx.debug.get_num_traces(_loss_and_grad) == 1


def test_blocking_does_not_change_the_weights(x64, train, augmented):
    aug = augmented["admg"]
    whole = DifferentiableAugmentation.from_augmented(aug, train)
    blocked = DifferentiableAugmentation.from_augmented(aug, train, block_size=BLOCK)
    args = (0.3, jnp.array([0.1, 0.2, 0.0]))
    np.testing.assert_allclose(np.asarray(blocked.log_weights(*args)), np.asarray(whole.log_weights(*args)), atol=1e-13)
    # The low-level function is what the module calls.
    lw = augmentation_log_weights(
        whole.values, whole.source_rows, whole.bandwidths(*args), whole.is_categorical, whole.order, whole.pillows
    )
    np.testing.assert_array_equal(np.asarray(lw), np.asarray(whole.log_weights(*args)))
    empty = augmentation_log_weights(
        whole.values, whole.source_rows[:0], whole.bandwidths(), whole.is_categorical, whole.order, whole.pillows
    )
    assert empty.shape == (0,)


@pytest.mark.parametrize(
    "make, kernel, threshold",
    [
        (_continuous, "gaussian", 0.0),
        (_with_ties, "gaussian", 1e-3),
        # Every row of the unpruned Gaussian support under a compact kernel: many weigh zero,
        # and some conditionals have no kernel mass at all.
        (_with_ties, "epanechnikov", 0.0),
    ],
)
def test_matches_brute_force_at_other_bandwidths(x64, make, kernel, threshold):
    df = make(np.random.default_rng(2), 6)
    # An absolute θ ≤ 1/n^d keeps augment's buffer shape (and its compiled code) shared by all cases.
    aug = cda.augment(df, ADMG, threshold=threshold, normalize_threshold=False)
    if threshold > 0:
        assert aug.mass < 0.99
    da = dataclasses.replace(DifferentiableAugmentation.from_augmented(aug, df), kernel=kernel)
    log_scale, log_h = 0.4, jnp.array([0.2, -0.1, 0.3])
    expected = _brute_force(da, np.asarray(da.bandwidths(log_scale, log_h)))
    want = np.array([expected[tuple(r)] for r in np.asarray(da.rows)])
    np.testing.assert_allclose(np.asarray(da.weights(log_scale, log_h)), want, rtol=1e-12, atol=1e-300)
    if kernel == "epanechnikov":
        assert np.mean(want == 0) > 0.1
        grads = jax.jit(jax.grad(lambda s, lh, da: jnp.sum(da.weights(s, lh) * da.rows[:, 2]), argnums=(0, 1)))(
            log_scale, log_h, da
        )
        assert all(np.all(np.isfinite(np.asarray(g))) for g in grads)
        return
    # At the augment's own bandwidths a value weight is at least the (possibly pruned) merged weight.
    own = np.asarray(da.weights())
    assert np.all(own >= aug.weights * (1 - 1e-12))
    if threshold == 0.0:
        np.testing.assert_allclose(own, aug.weights, rtol=1e-12)
        # Nothing pruned and a kernel without zeros: all n^d rows exist at every bandwidth, and
        # their weights are a probability distribution at every bandwidth.
        assert len(aug) == 6**3
        for s, lh in [(-1.5, None), (0.8, None), (2.5, jnp.array([0.5, -0.7, 0.1]))]:
            assert float(jnp.sum(da.weights(s, lh))) == pytest.approx(1.0, abs=1e-12)


def test_ties_with_pruning_count_pruned_siblings(x64):
    # x ties: rows 0 and 1 both hold x = 0 but differ in y, so the index tuples that spell the
    # value row (y=0.1, x=0) weigh differently; pruning keeps only the heavier one.
    df = pd.DataFrame({"x": [0.0, 0.0, 1.0, 2.0], "y": [0.1, 1.9, 1.2, 1.8]})
    aug = cda.augment(df, {"directed": [["y", "x"]]}, threshold=0.2)
    da = DifferentiableAugmentation.from_augmented(aug, df)
    expected = _brute_force(da, np.asarray(da.bandwidths()))
    want = np.array([expected[tuple(r)] for r in np.asarray(da.rows)])
    got = np.asarray(da.weights())
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.any(got > aug.weights * (1 + 1e-6)), "the example should prune a sibling tuple"


def test_float32_default_gives_close_weights_and_finite_gradients(train, augmented):
    aug = augmented["dag"]
    da = DifferentiableAugmentation.from_augmented(aug, train)
    assert da.values.dtype == jnp.float32

    def loss(s, da):
        lw = da.log_weights(s)
        return jnp.sum(jnp.exp(lw) * da.rows[:, 2]), lw

    (_, lw), g = jax.jit(jax.value_and_grad(loss, has_aux=True))(jnp.float32(0.0), da)
    assert lw.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(lw), aug.log_weights, rtol=1e-4, atol=1e-4)
    assert np.isfinite(float(g)) and float(g) != 0.0


def test_clear_errors(train, augmented):
    aug = augmented["dag"]
    with pytest.raises(TypeError, match="AugmentedData"):
        DifferentiableAugmentation.from_augmented(aug.data, train)
    with pytest.raises(ValueError, match=f"rows but aug was built from {N_TRAIN}"):
        DifferentiableAugmentation.from_augmented(aug, train.iloc[:-1])
    with pytest.raises(ValueError, match="column 'y' of data does not hold"):
        DifferentiableAugmentation.from_augmented(aug, train.assign(y=train["y"] + 1.0))
    empty = dataclasses.replace(
        aug, data=aug.data.iloc[:0], weights=aug.weights[:0], log_weights=aug.log_weights[:0],
        source_rows=aug.source_rows[:0],
    )
    with pytest.raises(ValueError, match="no rows"):
        DifferentiableAugmentation.from_augmented(empty, train)
    da = DifferentiableAugmentation.from_augmented(aug, train)
    with pytest.raises(ValueError, match=r"log_h must have shape \(3,\)"):
        da.weights(0.0, jnp.zeros(2))
    with pytest.raises(ValueError, match="log_scale must be a scalar"):
        da.weights(jnp.zeros(2))
