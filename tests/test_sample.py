"""Tests for causalda_jax.sample: exact distribution against augment, invariance, truncation, smoothing.

Statistical checks use a fixed seed and a Pearson chi-square test (cells with expected count
below 5 pooled) at level 1e-4: were the sampler exact and the seed random, each such check
would fail with probability 1e-4. Each has a counterpart showing it can fail (power).
"""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalda_jax import _sample as S
from causalda_jax._augment import augment
from causalda_jax._draw_chunk import draw_chunk
from causalda_jax._kernels import log_kernel_matrix
from causalda_jax._leaf_choice import LeafBoxes, Pillow, leaf_bounds, leaf_lower_bounds
from causalda_jax._leaves import leaf_boxes, leaf_moments, leaf_order
from causalda_jax._plan import make_plan
from causalda_jax._sample import NoConditionalError, sample
from causalda_jax.reference import augment_numpy, log_conditional_weights_numpy
from tracing import count_traces

N_DRAWS = 200_000
ALPHA = 1e-4


def _codes(df):
    """Per column, the value code of every training row (equal values share a code)."""
    return [pd.factorize(df[c], sort=True)[0] for c in df.columns]


def _tuples(codes, index_rows):
    return [tuple(r) for r in np.stack([codes[j][index_rows[:, j]] for j in range(len(codes))], axis=1)]


def _augment_law(df, graph, engine=augment_numpy, **kw):
    """Exact law of the sampler: augment's weighted rows, renormalised, keyed by value codes.

    The numpy twin of augment (tested equal to it in test_augment) saves a compile per
    configuration; one test uses ``augment`` itself.
    """
    aug = engine(df, graph, threshold=0.0, **kw)
    law = {}
    for t, w in zip(_tuples(_codes(df), aug.source_rows), aug.weights):
        law[t] = law.get(t, 0.0) + w
    total = sum(law.values())
    return {t: w / total for t, w in law.items()}, aug.mass


def _chi2_pvalue(index_rows, codes, law):
    """Pearson chi-square p-value of sampled tuples against ``law``; samples outside its support fail."""
    rows, freq = np.unique(np.stack([codes[j][index_rows[:, j]] for j in range(len(codes))], axis=1), axis=0,
                           return_counts=True)
    counts = pd.Series(freq, index=[tuple(r) for r in rows])
    outside = [t for t in counts.index if law.get(t, 0.0) == 0.0]
    assert not outside, f"sampled tuples with zero probability: {outside[:5]}"
    m = int(counts.sum())
    expected = np.array([m * p for p in law.values()])
    observed = np.array([counts.get(t, 0) for t in law])
    small = expected < 5
    exp_cells = np.r_[expected[~small], expected[small].sum()] if small.any() else expected
    obs_cells = np.r_[observed[~small], observed[small].sum()] if small.any() else observed
    stat = float(np.sum((obs_cells - exp_cells) ** 2 / exp_cells))
    return float(stats.chi2.sf(stat, exp_cells.size - 1))


@pytest.fixture(scope="module")
def chain():
    rng = np.random.default_rng(1)
    x = rng.normal(size=6)
    y = x + 0.5 * rng.normal(size=6)
    z = np.sin(y) + 0.3 * rng.normal(size=6)
    return pd.DataFrame({"x": x, "y": y, "z": z}), {"directed": [["x", "y"], ["y", "z"]]}


@pytest.fixture(scope="module")
def admg():
    """A categorical root, a bidirected edge: the pillow of y is {x, c} (exact match on c)."""
    rng = np.random.default_rng(2)
    c = pd.Categorical(["a", "b", "a", "b", "b", "a"])
    x = rng.normal(size=6) + (np.asarray(c) == "b")
    y = x**2 + rng.normal(size=6)
    df = pd.DataFrame({"c": c, "x": x, "y": y})
    return df, {"nodes": ["c", "x", "y"], "directed": [["c", "x"]], "bidirected": [["x", "y"]]}


@pytest.mark.parametrize(
    "case, leaf",
    [
        # The chain's law comes from augment itself (see PROMOTION_REASONS in conftest.py).
        pytest.param("chain", 2, marks=pytest.mark.slow),
        ("chain", 128),
        ("admg", 2),
        ("admg", 128),
    ],
)
def test_frequencies_match_augment_weights(case, leaf, request, monkeypatch):
    """With leaves of 2 rows the two-stage choice (leaf by mass, then row) is exercised."""
    monkeypatch.setattr(S, "_LEAF", leaf)
    df, graph = request.getfixturevalue(case)
    law, _ = _augment_law(df, graph, engine=augment if case == "chain" else augment_numpy)
    _, idx = sample(df, graph, N_DRAWS, seed=3, return_indices=True)
    assert _chi2_pvalue(idx, _codes(df), law) > ALPHA
    # Power: the same samples against the law with a wider bandwidth are rejected.
    wider, _ = _augment_law(df, graph, bandwidth_scale=3.0)
    assert _chi2_pvalue(idx, _codes(df), wider) < ALPHA


@pytest.mark.slow
def test_dead_ends_are_redrawn_like_augment_renormalises(monkeypatch):
    """Compact kernel: some (a, b) pairs have no conditional for y; augment drops them."""
    monkeypatch.setattr(S, "_LEAF", 4)  # a leaf can have zero mass while another has some
    v = np.arange(6.0)
    df = pd.DataFrame({"a": v, "b": v, "y": v**2})
    graph = {"directed": [["a", "y"], ["b", "y"]]}
    kw = dict(kernel="epanechnikov", bandwidth=1.5)
    law, mass = _augment_law(df, graph, **kw)
    assert mass < 0.9  # dead ends exist, so the redraw is exercised
    _, idx = sample(df, graph, N_DRAWS, seed=4, return_indices=True, **kw)
    assert _chi2_pvalue(idx, _codes(df), law) > ALPHA


def test_no_conditional_error(monkeypatch):
    df = pd.DataFrame({"a": list("pqrstu"), "b": list("pqrstu"), "y": np.arange(6.0)})
    monkeypatch.setattr(S, "_MAX_ROUNDS", 2)
    # Only the 6 diagonal (a, b) pairs of 36 have a conditional for y.
    with pytest.raises(NoConditionalError, match="kernel conditional is zero"):
        sample(df, {"directed": [["a", "y"], ["b", "y"]]}, 4096, seed=0, categorical=["a", "b"])


@pytest.mark.slow
@pytest.mark.parametrize("leaf", [2, 128])
def test_identical_across_chunks_and_devices(chain, leaf, monkeypatch):
    monkeypatch.setattr(S, "_LEAF", leaf)
    df, graph = chain
    assert len(jax.devices()) == 4, "tests/conftest.py forces 4 host devices"
    base = sample(df, graph, 5000, seed=7, return_indices=True)[1]
    one = sample(df, graph, 5000, seed=7, return_indices=True, devices=1, chunk_size=1000, row_chunk_size=2)[1]
    two = sample(df, graph, 5000, seed=7, return_indices=True, devices=2, chunk_size=3000, row_chunk_size=4)[1]
    # With 128-row leaves, the default is one leaf (the row drawn directly); 256 rows make two.
    wide = sample(df, graph, 5000, seed=7, return_indices=True, row_chunk_size=256)[1]
    np.testing.assert_array_equal(base, one)
    np.testing.assert_array_equal(base, two)
    np.testing.assert_array_equal(base, wide)
    near = sample(df, graph, 5000, seed=7, return_indices=True, neighbors=2)[1]
    near_two = sample(df, graph, 5000, seed=7, return_indices=True, neighbors=2, devices=2, chunk_size=3000)[1]
    np.testing.assert_array_equal(near, near_two)


def test_seed_and_key(chain):
    df, graph = chain
    a = sample(df, graph, 5000, seed=5, return_indices=True)[1]
    b = sample(df, graph, 5000, key=jax.random.key(5), return_indices=True)[1]
    c = sample(df, graph, 5000, key=jax.random.key_data(jax.random.key(5)), return_indices=True)[1]
    d = sample(df, graph, 5000, seed=6, return_indices=True)[1]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert (a != d).mean() > 0.5


@pytest.mark.parametrize("seed", [5, 2**32 - 1, 2**32, 2**40 + 5, 2**63 - 1])
@pytest.mark.parametrize("wide", [False, True])
def test_a_seed_names_the_same_key_with_and_without_x64(seed, wide):
    with jax.enable_x64(wide):
        data = jax.random.key_data(S._as_key(seed, None))
    np.testing.assert_array_equal(np.asarray(data), [seed // 2**32, seed % 2**32])
    if seed < 2**32:  # the same key as jax.random.key for the seeds it represents in every mode
        np.testing.assert_array_equal(np.asarray(data), np.asarray(jax.random.key_data(jax.random.key(seed))))


def test_seed_none_draws_a_fresh_seed_that_is_recorded(chain, tmp_path):
    df, graph = chain
    a, rows_a = sample(df, graph, 2000, return_indices=True)
    b, rows_b = sample(df, graph, 2000, return_indices=True)
    assert a.attrs["seed"] != b.attrs["seed"]  # two draws of 63 bits: equal with probability 2**-63
    assert (rows_a != rows_b).mean() > 0.5
    np.testing.assert_array_equal(sample(df, graph, 2000, seed=a.attrs["seed"], return_indices=True)[1], rows_a)
    assert sample(df, graph, 10, seed=5).attrs["seed"] == 5
    assert sample(df, graph, 10, key=jax.random.key(5)).attrs["seed"] is None
    # A resumable directory must name its seed: a fresh one could never be resumed.
    with pytest.raises(ValueError, match="explicit seed"):
        sample(df, graph, 10, out=tmp_path / "parts")
    assert not (tmp_path / "parts").exists()


def test_devices_none_is_every_local_device_in_sample_and_augment(chain, monkeypatch):
    import causalda_jax._augment as engine

    df, graph = chain
    seen = {}

    def spy(name, real):
        def mesh(devices=None):
            out = real(devices)
            seen[name] = list(out.devices.flat)
            return out

        return mesh

    monkeypatch.setattr(S, "batch_mesh", spy("sample", S.batch_mesh))
    monkeypatch.setattr(engine, "batch_mesh", spy("augment", engine.batch_mesh))
    sample(df, graph, 100, seed=0)
    augment(df, graph, threshold=0.0)
    assert seen["sample"] == seen["augment"] == jax.local_devices()
    assert len(seen["sample"]) == 4  # tests/conftest.py forces 4 host devices


def test_traced_once(chain):
    df, graph = chain
    draw_chunk.clear_cache()
    with count_traces() as first:
        sample(df, graph, 4500, seed=1)
    assert first["draw_chunk"] == 1  # the guard counts the compiled function's own name
    with count_traces() as traces:
        sample(df, graph, 6000, seed=2)
        sample(df.assign(x=df["x"] * 2), graph, 4097, seed=3)
    assert traces["draw_chunk"] == 0


def test_frame_keeps_columns_dtypes_and_categories():
    df = pd.DataFrame(
        {
            "n": np.array([3, 1, 4, 1, 5, 9], dtype=np.int32),
            "k": pd.Categorical(["u", "v", "u", "w", "v", "u"], categories=["w", "v", "u", "z"]),
            "s": pd.Series(["p", "q", "p", "q", "p", "q"], dtype="str"),
        }
    )
    graph = {"directed": [["n", "k"], ["k", "s"]]}
    out, idx = sample(df, graph, 4096, seed=0, return_indices=True, categorical="s")
    assert list(out.columns) == list(df.columns)
    assert (out.dtypes == df.dtypes).all()
    assert list(out["k"].cat.categories) == ["w", "v", "u", "z"]
    for j, col in enumerate(df.columns):
        np.testing.assert_array_equal(out[col].to_numpy(), df[col].to_numpy()[idx[:, j]])
    # Exact match on the categorical parent: s must come from a row with the same k.
    assert (df["k"].to_numpy()[idx[:, 2]] == out["k"].to_numpy()).all()


def _truncated_law(df, graph, k, leaf):
    """Brute force in float64: each conditional keeps the rows of its ``⌈k / leaf⌉`` leaves with the
    largest mass bound (row count × kernel at the box's nearest point; ties: lower leaf)."""
    plan = make_plan(df, graph, threshold=0.0, normalize_threshold=False, kernel="gaussian",
                     bandwidth="normal_reference", bandwidth_scale=1.0, categorical=None)
    x, n, d = plan.table.values, plan.table.n, plan.table.d
    scaled = S._scaled_values(plan)
    codes = _codes(df)
    n_keep = -(-k // leaf)
    law = {}
    for rows in itertools.product(range(n), repeat=d):
        logp = 0.0
        for var, pillow in zip(plan.order, plan.pillows):
            if not pillow:
                logp -= math.log(n)
                continue
            p = list(pillow)
            z = np.array([x[rows[c], c] for c in p])
            leaves = np.array_split(leaf_order(scaled[:, p], leaf, first=plan.table.is_categorical[p]), range(leaf, n, leaf))
            bound = []
            cat = plan.table.is_categorical[p]
            for members in leaves:
                box = x[np.ix_(members, p)]
                gap = np.maximum(np.maximum(box.min(axis=0) - z, z - box.max(axis=0)), 0) / plan.h[p]
                # A categorical value outside the leaf's range matches none of its rows.
                bound.append(-math.inf if (gap[cat] > 0).any() else
                             math.log(len(members)) - 0.5 * float(gap[~cat] @ gap[~cat]))
            keep = np.concatenate([leaves[i] for i in np.argsort(-np.array(bound), kind="stable")[:n_keep]])
            lk = log_conditional_weights_numpy(z[None], x[:, p], plan.h[p], plan.table.is_categorical[p], "gaussian")[0]
            if rows[var] not in keep:
                logp = -math.inf
                break
            logp += lk[rows[var]] - np.logaddexp.reduce(lk[keep])
        if logp > -math.inf:
            t = tuple(codes[j][rows[j]] for j in range(d))
            law[t] = law.get(t, 0.0) + math.exp(logp)
    return law


@pytest.mark.slow
def test_truncated_sampler_matches_brute_force(monkeypatch):
    monkeypatch.setattr(S, "_LEAF", 2)
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": rng.normal(size=6), "y": rng.normal(size=6), "z": rng.normal(size=6)})
    graph = {"directed": [["x", "y"], ["x", "z"]]}
    law = _truncated_law(df, graph, k=3, leaf=2)  # 2 of 3 leaves
    assert abs(sum(law.values()) - 1.0) < 1e-12
    _, idx = sample(df, graph, N_DRAWS, seed=8, neighbors=3, return_indices=True)
    assert _chi2_pvalue(idx, _codes(df), law) > ALPHA
    exact, _ = _augment_law(df, graph)
    assert _chi2_pvalue(idx, _codes(df), exact) < ALPHA  # power: truncation is visible
    # Same noise as the exact sampler: where the exact choice's leaf is a candidate, it is kept.
    _, full = sample(df, graph, N_DRAWS, seed=8, return_indices=True)
    np.testing.assert_array_equal(idx[:, 0], full[:, 0])
    changed = (idx[:, 1:] != full[:, 1:]).mean()
    assert 0.01 < changed < 0.5


def test_truncated_sampler_with_a_categorical_pillow(admg, monkeypatch):
    """The pillow of y is {x, c}: a leaf whose c-range misses the sample's c has no mass."""
    monkeypatch.setattr(S, "_LEAF", 2)
    df, graph = admg
    law = _truncated_law(df, graph, k=2, leaf=2)  # 1 of 3 leaves
    assert abs(sum(law.values()) - 1.0) < 1e-12
    _, idx = sample(df, graph, N_DRAWS, seed=12, neighbors=2, return_indices=True)
    assert _chi2_pvalue(idx, _codes(df), law) > ALPHA
    exact, _ = _augment_law(df, graph)
    assert _chi2_pvalue(idx, _codes(df), exact) < ALPHA  # power


def test_leaf_order_is_a_kd_tree():
    """Blocks of ``leaf`` rows, all full but the last; every split separates its halves along one axis."""
    rng = np.random.default_rng(0)
    points = rng.normal(size=(1000, 3)) * [1.0, 10.0, 0.1]
    leaf = 32
    order = leaf_order(points, leaf)
    assert sorted(order.tolist()) == list(range(1000))

    def check(lo, hi):
        size = hi - lo
        if size <= leaf:
            return
        left = leaf * ((-(-size // leaf) + 1) // 2)
        coords = points[order[lo:hi]]
        axis = np.argmax(coords.max(axis=0) - coords.min(axis=0))
        assert coords[:left, axis].max() <= coords[left:, axis].min()
        check(lo, lo + left)
        check(lo + left, hi)

    check(0, 1000)
    # Boxes against brute force, the short last leaf and the padding included.
    padded = np.zeros((33 * leaf, 3))
    padded[:1000] = points[order]
    lo, hi = leaf_boxes(padded, 1000, leaf)
    assert lo.shape == hi.shape == (33, 3)
    for i in range(32):
        members = points[order[i * leaf : (i + 1) * leaf]]
        np.testing.assert_array_equal(lo[i], members.min(axis=0))
        np.testing.assert_array_equal(hi[i], members.max(axis=0))
    assert (lo[32] == np.inf).all() and (hi[32] == -np.inf).all()  # no real row: an empty box
    mean, var = leaf_moments(padded, 1000, leaf)
    for i in range(32):
        members = points[order[i * leaf : min((i + 1) * leaf, 1000)]]
        np.testing.assert_allclose(mean[i], members.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(var[i], members.var(axis=0), rtol=1e-10)
    assert (mean[32] == 0).all() and (var[32] == 0).all()
    np.testing.assert_array_equal(leaf_order(np.zeros((5, 0)), 2), np.arange(5))
    # A categorical coordinate is split first: with 3 categories of 300+ rows, at most 2 leaves mix them.
    cats = np.c_[points[:, :2], rng.integers(0, 3, 1000)]
    order = leaf_order(cats, leaf, first=np.array([False, False, True]))
    mixed = [np.unique(cats[order[i : i + leaf], 2]).size > 1 for i in range(0, 1000, leaf)]
    assert sum(mixed) <= 2


def test_smoothing_noise_and_conditioning():
    """x → y with s = 1: x is a KDE draw and y conditions on the smoothed x."""
    df = pd.DataFrame({"x": np.arange(6.0), "y": np.array([0, 0, 0, 0, 0, 10.0]), "c": pd.Categorical(list("ababab"))})
    graph = {"directed": [["x", "y"]], "nodes": ["x", "y", "c"]}
    out, idx = sample(df, graph, N_DRAWS, seed=9, smoothing=1.0, return_indices=True)
    plan = make_plan(df, graph, threshold=0.0, normalize_threshold=False, kernel="gaussian",
                     bandwidth="normal_reference", bandwidth_scale=1.0, categorical=None)
    hx, hy = plan.h[0], plan.h[1]
    assert (out["c"].to_numpy() == df["c"].to_numpy()[idx[:, 2]]).all()
    for j, h in ((0, hx), (1, hy)):
        noise = out.iloc[:, j].to_numpy() - df.iloc[:, j].to_numpy()[idx[:, j]]
        assert abs(noise.std() / h - 1) < 0.01  # standard error of the ratio ~0.0016
        assert abs(noise.mean() / h) < 0.01
    # E[y] = ∫ p̂(x) m(x) dx with m(x) = Σ w_i(x) Y_i, by quadrature.
    X, Y = df["x"].to_numpy(), df["y"].to_numpy()
    grid = np.linspace(X.min() - 10 * hx, X.max() + 10 * hx, 20001)
    logk = -0.5 * ((grid[:, None] - X[None, :]) / hx) ** 2
    w = np.exp(logk - logk.max(axis=1, keepdims=True))
    m = (w / w.sum(axis=1, keepdims=True)) @ Y
    density = np.exp(logk).mean(axis=1) / (hx * math.sqrt(2 * math.pi))
    expected = np.trapezoid(density * m, grid)
    k_raw = np.exp(-0.5 * ((X[:, None] - X[None, :]) / hx) ** 2)
    raw = np.mean(k_raw / k_raw.sum(axis=1, keepdims=True) @ Y)
    se = out["y"].std() / math.sqrt(N_DRAWS)
    assert abs(expected - raw) > 8 * se  # conditioning on the raw x would be detected
    assert abs(out["y"].mean() - expected) < 4 * se


def test_int_column_becomes_float_with_smoothing():
    df = pd.DataFrame({"x": np.arange(6), "y": np.arange(6.0) ** 2, "c": pd.Categorical(list("ababab"))})
    out = sample(df, {"directed": [["x", "y"]], "nodes": ["x", "y", "c"]}, 4096, seed=0, smoothing=0.5)
    assert out["x"].dtype == np.float64 and out["c"].dtype == df["c"].dtype


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_samples=0), ValueError, "n_samples"),
        (dict(n_samples=2.5), ValueError, "n_samples"),
        (dict(n_samples=True), ValueError, "n_samples"),
        (dict(smoothing=-0.1), ValueError, "smoothing"),
        (dict(smoothing=float("nan")), ValueError, "smoothing"),
        (dict(smoothing="a"), ValueError, "smoothing"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed=1.5), TypeError, "seed"),
        (dict(seed=1, key=jax.random.key(0)), ValueError, "either seed or key"),
        (dict(key=np.array([0, 1], np.uint32)), TypeError, "key"),
        (dict(key=jnp.zeros(3)), TypeError, "key"),
        (dict(key=jax.random.split(jax.random.key(0))), ValueError, "single PRNG key"),
        (dict(neighbors=0), ValueError, "neighbors"),
        (dict(chunk_size=0), ValueError, "chunk_size"),
        (dict(devices=99), ValueError, "devices"),
        (dict(kernel="box"), ValueError, "kernel"),
    ],
)
def test_bad_input(chain, kwargs, error, match):
    df, graph = chain
    kwargs = {"n_samples": 10, **kwargs}
    with pytest.raises(error, match=match):
        sample(df, graph, **kwargs)


def test_bad_data_is_validated_like_augment(chain):
    df, graph = chain
    with pytest.raises(ValueError, match="missing"):
        sample(df.assign(x=[np.nan, 1, 2, 3, 4, 5]), graph, 10)
    with pytest.raises(ValueError):
        sample(df.drop(columns="z"), graph, 10)


@pytest.mark.slow
def test_every_row_a_neighbour_is_the_exact_sampler(chain):
    df, graph = chain
    a = sample(df, graph, 5000, seed=11, return_indices=True)[1]
    b = sample(df, graph, 5000, seed=11, neighbors=len(df), return_indices=True)[1]
    np.testing.assert_array_equal(a, b)


def test_single_sample(chain):
    df, graph = chain
    out = sample(df, graph, 1, seed=0)
    assert out.shape == (1, 3) and out.index.tolist() == [0]


def _pruning_data(n=256, seed=13):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = x + 0.3 * rng.normal(size=n)
    c = pd.Categorical(rng.choice(["a", "b"], size=n))
    z = np.sin(2 * y) + (np.asarray(c) == "b") + 0.2 * rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y, "c": c, "z": z}), {"directed": [["x", "y"], ["y", "z"], ["c", "z"]]}


@pytest.mark.parametrize(
    "kernel, tau", [pytest.param("gaussian", 1.0, marks=pytest.mark.slow), ("gaussian", 0.1), ("epanechnikov", 0.5)]
)
def test_leaf_bounds_bracket_the_leaf_mass(kernel, tau, x64):
    """up ≥ log mass ≥ log count + lower, in float64 against the rows themselves (a categorical pillow column too)."""
    df, graph = _pruning_data()
    plan = make_plan(df, graph, threshold=0.0, normalize_threshold=False, kernel=kernel,
                     bandwidth="normal_reference", bandwidth_scale=tau, categorical=None)
    leaf = 16
    x = S._scaled_values(plan).astype(np.float64)
    _, pillow, mask, _, perm, lo, hi, mean, var = S._steps(plan, x, leaf)
    t = plan.order.index(3)  # z, whose pillow is {y, c}
    cols = pillow[t]
    xs = x[perm[t]][:, cols]
    rng = np.random.default_rng(0)
    z = xs[rng.integers(0, len(x), 64)] + np.where(mask[t] & ~plan.table.is_categorical[cols], rng.normal(size=(64, 2)) * 2, 0)
    hp = np.where(mask[t], 1.0, np.inf)
    cp = plan.table.is_categorical[cols] & mask[t]
    log_k = np.asarray(log_kernel_matrix(jnp.asarray(z), jnp.asarray(xs), jnp.asarray(hp), jnp.asarray(cp), kernel))
    with np.errstate(divide="ignore"):
        mass = np.logaddexp.reduce(log_k.reshape(64, -1, leaf), axis=-1)
        # The sampler keeps its leaf boxes and moments in float32; the check runs in float64.
        view = Pillow(*(jnp.asarray(a, jnp.float64) for a in (z, xs, hp)), jnp.asarray(cp), jnp.asarray(mask[t]))
        boxes = LeafBoxes(*(jnp.asarray(a[t], jnp.float64) for a in (lo, hi, mean, var)))
        upper = np.asarray(leaf_bounds(view.z, boxes.lo, boxes.hi, view.hp, view.cp, kernel)) + np.log(leaf)
        lower = np.asarray(leaf_lower_bounds(view, boxes, kernel)) + np.log(leaf)
    finite = np.isfinite(mass)
    assert finite.mean() > 0.1
    assert (upper >= mass - 1e-9).all() and (lower <= mass + 1e-9).all()
    if kernel == "gaussian":
        assert (np.isfinite(lower) & finite).mean() > 0.05  # the lower bound is not trivially -inf


@pytest.mark.slow
@pytest.mark.parametrize("tau", [1.0, 0.05])
def test_pruned_frequencies_match_augment_weights(tau, monkeypatch):
    """At τ = 0.05 most leaf choices are decided by the bounds alone, the rest by the few leaves they leave in play."""
    monkeypatch.setattr(S, "_LEAF", 4)
    df, graph = _pruning_data(n=48, seed=3)
    df = df.drop(columns="c")
    graph = {"directed": [["x", "y"], ["y", "z"]]}
    law, _ = _augment_law(df, graph, bandwidth_scale=tau)
    out, idx = sample(df, graph, N_DRAWS, seed=21, bandwidth_scale=tau, return_indices=True)
    stats_ = out.attrs["sampling"]
    decided = sum(stats_.values())
    assert decided == 2 * N_DRAWS  # y and z, each over 12 leaves (and 4 of padding)
    if tau < 1:
        assert stats_["by_bounds"] > 0.5 * decided and stats_["full_scans"] == 0
    assert _chi2_pvalue(idx, _codes(df), law) > ALPHA
    wider, _ = _augment_law(df, graph, bandwidth_scale=1.5 * tau)
    assert _chi2_pvalue(idx, _codes(df), wider) < ALPHA  # power


@pytest.mark.slow
@pytest.mark.parametrize("tau", [1.0, 0.1])
@pytest.mark.parametrize("n_cand", [1, 2, 16])
def test_pruned_draws_are_the_exact_samplers(tau, n_cand, monkeypatch):
    """Bit for bit the full scan's draws, across chunk sizes and devices; fallbacks counted."""
    monkeypatch.setattr(S, "_LEAF", 8)
    df, graph = _pruning_data()
    kw = dict(seed=17, bandwidth_scale=tau, return_indices=True)
    monkeypatch.setattr(S, "_CANDIDATE_LEAVES", 0)
    full, want = sample(df, graph, 3000, **kw)
    assert full.attrs["sampling"] == {"by_bounds": 0, "by_candidates": 0, "full_scans": 2 * 3000}
    monkeypatch.setattr(S, "_CANDIDATE_LEAVES", n_cand)
    monkeypatch.setattr(S, "_CANDIDATE_GROUP", 7)  # several groups, the last one short
    monkeypatch.setattr(S, "_FULL_GROUP", 5)
    out, got = sample(df, graph, 3000, **kw)
    np.testing.assert_array_equal(got, want)
    counts = out.attrs["sampling"]
    assert sum(counts.values()) == 2 * 3000  # y and z (x and c are roots)
    assert counts["by_bounds"] > 0
    if n_cand == 1:
        assert counts["full_scans"] > 0  # the fallback is exercised, and counted
    else:
        assert counts["by_candidates"] > 0
    _, split = sample(df, graph, 3000, chunk_size=1000, devices=2, row_chunk_size=16, **kw)
    np.testing.assert_array_equal(split, want)


@pytest.mark.parametrize("n", [6, 300])
def test_draws_are_the_same_with_and_without_x64(n):
    # 300 rows: several leaves, so the leaf and row choices reduce over index arrays that x64
    # would make int64.
    rng = np.random.default_rng(5)
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "y": x + rng.normal(size=n)})
    graph = {"directed": [["x", "y"]]}
    narrow = sample(df, graph, 3000, seed=2, return_indices=True)[1]
    with jax.enable_x64(True):
        wide = sample(df, graph, 3000, seed=2, return_indices=True)[1]
    np.testing.assert_array_equal(wide, narrow)
