"""The JAX engine against brute-force enumeration, the numpy implementation, and its own invariants."""

import warnings

import numpy as np
import pandas as pd
import pytest

import causalda_jax as cda
import causalda_jax._augment as front
import causalda_jax._expand as engine
import causalda_jax._pruned as pruned
from causalda_jax import CausalGraph, augment
from causalda_jax.reference import augment_numpy

from oracle import brute_force
from tracing import count_traces

RTOL = 1e-10  # float64 throughout the engine
# Nearly every test runs the engine (see PROMOTION_REASONS in conftest.py).
# One device (devices=1) wherever a test checks the per-step path: the tests run with 4 host
# devices, and several devices take the sharded full scoring.


@pytest.fixture(autouse=True)
def compiled_steps(monkeypatch):
    """Every step through the compiled engine (small steps would otherwise run in numpy)."""
    monkeypatch.setattr(front, "NUMPY_MAX_CANDIDATES", 0)


def _brute_force_of(df, g, nodes, h, categorical, threshold, kernel):
    """The brute-force oracle on a frame, by column positions (it works on labels directly)."""
    rows = list(df.itertuples(index=False, name=None))
    pos = {v: j for j, v in enumerate(nodes)}
    return brute_force(
        rows,
        [pos[v] for v in g.topological_order()],
        {pos[v]: [pos[p] for p in g.markov_pillow(v)] for v in nodes},
        {pos[v]: h[v] for v in h},
        {pos[v] for v in categorical},
        threshold,
        kernel,
    )


def _normal_reference(col):
    sd = np.std(col, ddof=1)
    q75, q25 = np.percentile(col, [75, 25])
    spread = min(sd, (q75 - q25) / 1.349) if q75 > q25 else sd
    return 1.0592 * spread * len(col) ** -0.2


def _as_dict(aug):
    return {tuple(row): w for row, w in zip(aug.data.itertuples(index=False, name=None), aug.weights)}


CASES = {
    "chain": (["a", "b", "c"], [("a", "b"), ("b", "c")], [], []),
    "collider": (["a", "b", "c"], [("a", "c"), ("b", "c")], [], []),
    "admg": (["a", "b", "c"], [("a", "b"), ("b", "c")], [("a", "c")], []),
    "admg4": (["a", "b", "c", "d"], [("a", "b"), ("c", "d")], [("b", "d")], []),
    "categorical": (["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")], [], ["b"]),
    "mixed_admg": (["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "d")], [("b", "d")], ["a"]),
}


def _data(case, n, seed):
    nodes, directed, _, categorical = CASES[case]
    rng = np.random.default_rng(seed)
    cols = {}
    for v in nodes:
        if v in categorical:
            cols[v] = pd.Categorical(rng.choice(["lo", "mid", "hi"], size=n))
        else:
            cols[v] = np.round(rng.normal(size=n), 3)
    # Ties in a continuous column exercise merging by value.
    cols[nodes[-1]][1] = cols[nodes[-1]][0]
    return pd.DataFrame(cols)


@pytest.mark.parametrize(
    "threshold, kernel, case",
    [
        pytest.param(t, k, c, marks=pytest.mark.slow) if (t, k, c) == (0.1, "epanechnikov", "admg4") else (t, k, c)
        for t in (0.0, 0.1)
        for k in ("gaussian", "epanechnikov")
        for c in CASES
    ],
)
def test_matches_brute_force(case, kernel, threshold):
    nodes, directed, bidirected, categorical = CASES[case]
    n = 6
    df = _data(case, n, seed=len(case))
    g = CausalGraph(nodes, directed, bidirected)
    h = {v: 1.3 * _normal_reference(df[v].to_numpy()) for v in nodes if v not in categorical}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aug = augment(df, g, threshold=threshold, kernel=kernel, bandwidth=h, categorical=categorical)
    # An empty result, and only an empty result, comes with a warning saying why.
    assert any("no row survived" in str(w.message) for w in caught) == (len(aug) == 0)
    # The oracle works on category labels directly.
    expected = _brute_force_of(df, g, nodes, h, categorical, threshold / n, kernel)
    got = _as_dict(aug)
    assert set(got) == set(expected)
    for key, w in expected.items():
        assert got[key] == pytest.approx(w, rel=RTOL, abs=1e-300)
    assert list(aug.data.columns) == nodes
    for v in categorical:
        assert aug.data[v].dtype == df[v].dtype


def _random_dag_data(n, d, seed, parents=2):
    rng = np.random.default_rng(seed)
    cols, edges = {}, []
    for j in range(d):
        pa = sorted(rng.choice(j, size=min(j, parents), replace=False)) if j else []
        value = rng.normal(size=n)
        for p in pa:
            value += np.tanh(cols[f"x{p}"]) * rng.uniform(0.5, 1.5)
            edges.append((f"x{p}", f"x{j}"))
        cols[f"x{j}"] = value
    return pd.DataFrame(cols), CausalGraph(list(cols), edges)


@pytest.mark.slow
@pytest.mark.parametrize("scale, threshold, chunk", [(1.0, 1e-2, None), (0.3, 1e-3, 7), (1e-3, 1e-2, 64)])
def test_jax_matches_numpy_medium(scale, threshold, chunk):
    df, g = _random_dag_data(n=60, d=5, seed=1)
    kw = dict(threshold=threshold, bandwidth_scale=scale)
    a = augment(df, g, chunk_size=chunk, **kw)
    b = augment_numpy(df, g, **kw)
    assert len(a) == len(b) > 0
    np.testing.assert_array_equal(a.source_rows, b.source_rows)
    np.testing.assert_allclose(a.log_weights, b.log_weights, rtol=RTOL)


@pytest.mark.parametrize("kernel, scale, parent", [
    ("gaussian", 0.5, "continuous"),
    ("gaussian", 0.05, "ties"),
    ("epanechnikov", 0.3, "continuous"),
    pytest.param("gaussian", 1.0, "categorical", marks=pytest.mark.slow),
])
def test_interval_step_matches_numpy_twin(monkeypatch, kernel, scale, parent):
    # Every step compiled through the interval step (one-column pillows and the root): the same
    # rows and weights as the numpy twin, with tied values and a categorical parent too.
    rng = np.random.default_rng(3)
    x = rng.normal(size=90)
    if parent == "ties":
        x = np.round(x, 1)  # many equal values: the kept intervals hold ties on both sides
    elif parent == "categorical":
        x = rng.integers(0, 4, size=90).astype(float)
    df = pd.DataFrame({"a": x, "b": np.sin(x) + 0.3 * rng.normal(size=90), "c": rng.normal(size=90)})
    g = CausalGraph(["a", "b", "c"], [("a", "b"), ("b", "c")])
    kw = dict(threshold=1e-3, bandwidth_scale=scale, kernel=kernel, categorical=["a"] if parent == "categorical" else None)
    monkeypatch.setattr(front, "NUMPY_MAX_CANDIDATES", 0)
    monkeypatch.setattr(engine, "_INTERVAL_MIN_ROWS_PER_N", 0)
    a = augment(df, g, devices=1, **kw)
    assert {s["path"] for s in a.config["steps"]} == {"interval"}, a.config["steps"]
    b = augment_numpy(df, g, **kw)
    assert len(a) == len(b) > 0
    np.testing.assert_array_equal(a.source_rows, b.source_rows)
    np.testing.assert_allclose(a.log_weights, b.log_weights, rtol=RTOL)


@pytest.mark.slow
def test_interval_and_scored_steps_agree(monkeypatch):
    # The same run through the interval step, then through the scored step: the same result.
    df, g = _random_dag_data(n=80, d=3, seed=3, parents=1)
    monkeypatch.setattr(front, "NUMPY_MAX_CANDIDATES", 0)
    monkeypatch.setattr(engine, "_INTERVAL_MIN_ROWS_PER_N", 0)
    a = augment(df, g, threshold=1e-3, bandwidth_scale=0.5, devices=1)
    assert {s["path"] for s in a.config["steps"]} == {"interval"}, a.config["steps"]
    monkeypatch.setattr(engine, "_INTERVAL_MIN_ROWS_PER_N", 10**9)
    monkeypatch.setattr(front, "PRUNE", False)
    b = augment(df, g, threshold=1e-3, bandwidth_scale=0.5, chunk_size=5, devices=1)
    assert [s["path"] for s in b.config["steps"]] == ["interval", "scored", "scored"], b.config["steps"]
    np.testing.assert_array_equal(a.source_rows, b.source_rows)
    np.testing.assert_allclose(a.log_weights, b.log_weights, rtol=RTOL)


@pytest.mark.slow
def test_topological_order_does_not_matter():
    df, g = _random_dag_data(n=25, d=5, seed=2)
    shuffled = CausalGraph(list(reversed(g.nodes)), g.directed)
    assert shuffled.topological_order() != g.topological_order()
    a = augment(df, g, threshold=1e-3)
    b = augment(df, shuffled, threshold=1e-3)
    np.testing.assert_array_equal(a.source_rows, b.source_rows)
    np.testing.assert_allclose(a.weights, b.weights, rtol=RTOL)


@pytest.mark.parametrize(
    "threshold", [pytest.param(0.0, marks=pytest.mark.slow), 1e-3, pytest.param(0.2, marks=pytest.mark.slow)]
)
def test_weights_are_a_sub_probability(threshold):
    df, g = _random_dag_data(n=12, d=3, seed=4)
    aug = augment(df, g, threshold=threshold)
    assert np.all(aug.weights > 0)
    assert aug.weights.sum() <= 1 + 1e-12
    assert np.all(aug.weights >= threshold / 12 * (1 - 1e-12))
    if threshold == 0:
        assert aug.weights.sum() == pytest.approx(1.0, rel=1e-12)
        assert len(aug) == 12**3


@pytest.mark.slow
def test_log_space_survives_tiny_bandwidths():
    # With bandwidth scale 1e-3 linear-space kernels underflow to 0/0; the conditional of a
    # chain is then (nearly) deterministic and almost all of the mass must survive pruning.
    rng = np.random.default_rng(5)
    x = rng.normal(size=200)
    df = pd.DataFrame({"a": x, "b": x + 0.5 * rng.normal(size=200), "c": rng.normal(size=200)})
    g = CausalGraph(["a", "b", "c"], [("a", "b"), ("b", "c")])
    h = 1e-3 * _normal_reference(x)
    gaps = np.abs(x[:, None] - x[None, :])[~np.eye(200, dtype=bool)]
    assert np.exp(-0.5 * (np.median(gaps) / h) ** 2) == 0.0  # linear space underflows
    aug = augment(df, g, threshold=1e-2, bandwidth_scale=1e-3)
    assert aug.mass > 0.95
    np.testing.assert_allclose(aug.log_weights, augment_numpy(df, g, threshold=1e-2, bandwidth_scale=1e-3).log_weights, rtol=RTOL)


@pytest.mark.slow
def test_one_compile_per_step_kind_and_pillow_size(monkeypatch):
    # Pillow sizes: x0:0, x1:1, x2:2, x3:2, x4:2. Roots take the interval step, two-column pillows
    # the scored step, one-column pillows either (by the number of rows). Each (step, size)
    # compiles once, and new data of the same shape compiles nothing.
    df, g = _random_dag_data(n=30, d=5, seed=6)
    sizes = [len(g.markov_pillow(v)) for v in g.topological_order()]
    assert sorted(set(sizes)) == [0, 1, 2]
    monkeypatch.setattr(front, "PRUNE", False)
    engine._expand_interval.clear_cache()
    engine._expand_scored.clear_cache()
    with count_traces() as first:
        augment(df, g, threshold=1e-2, devices=1)  # the one-device steps
    interval, scored = first["_interval_step"], first["_scored_step"]
    assert 1 <= interval <= 2 and 1 <= scored <= 2 and interval + scored <= 3
    df2, _ = _random_dag_data(n=30, d=5, seed=7)
    with count_traces() as second:
        augment(df2, g, threshold=1e-2, devices=1)
    assert second["_interval_step"] == 0 and second["_scored_step"] == 0


@pytest.mark.slow
def test_nearby_row_counts_share_compiled_steps(monkeypatch):
    # 200 and 205 rows pad to one bucket of 208: the second run traces no step (interval, scored
    # or pruned), and its rows and weights are still the numpy twin's.
    assert engine.padded_rows(200) == engine.padded_rows(205) == 208
    df, g = _random_dag_data(n=200, d=4, seed=8)
    df2, _ = _random_dag_data(n=205, d=4, seed=9)
    monkeypatch.setattr(front, "NUMPY_MAX_CANDIDATES", 0)
    monkeypatch.setattr(engine, "_INTERVAL_MIN_ROWS_PER_N", 10**9)
    monkeypatch.setattr(pruned, "choose_leaves", lambda *a, **k: 4)
    kw = dict(threshold=1e-3, bandwidth_scale=0.3, devices=1)
    with count_traces() as first:
        a = augment(df, g, **kw)
    assert {s["path"] for s in a.config["steps"]} == {"interval", "pruned"}, a.config["steps"]
    assert first["_interval_step"] + first["_pruned_step"] >= 2
    with count_traces() as second:
        b = augment(df2, g, **kw)
    assert [s["path"] for s in b.config["steps"]] == [s["path"] for s in a.config["steps"]]
    assert second["_interval_step"] == second["_scored_step"] == second["_pruned_step"] == 0
    c = augment_numpy(df2, g, threshold=1e-3, bandwidth_scale=0.3)
    assert len(b) == len(c) > 0
    np.testing.assert_array_equal(b.source_rows, c.source_rows)
    np.testing.assert_allclose(b.log_weights, c.log_weights, rtol=RTOL)


@pytest.mark.parametrize("suffix", [pytest.param(".parquet", marks=pytest.mark.slow), ".npz"])
def test_save_load_round_trip(tmp_path, suffix):
    df = _data("mixed_admg", 6, seed=1)
    nodes, directed, bidirected, categorical = CASES["mixed_admg"]
    g = CausalGraph(nodes, directed, bidirected)
    aug = augment(df, g, threshold=0.01)
    path = tmp_path / f"aug{suffix}"
    aug.save(path)
    back = cda.AugmentedData.load(path)
    pd.testing.assert_frame_equal(back.data, aug.data)
    np.testing.assert_array_equal(back.weights, aug.weights)
    np.testing.assert_array_equal(back.log_weights, aug.log_weights)
    np.testing.assert_array_equal(back.source_rows, aug.source_rows)
    assert back.graph == g and back.config == aug.config
    assert list(back.data["a"].cat.categories) == list(df["a"].cat.categories)


@pytest.mark.slow
def test_does_not_mutate_input():
    df, g = _random_dag_data(n=10, d=3, seed=8)
    before = df.copy()
    augment(df, g, threshold=0.01)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.slow
def test_effective_sample_size_is_kish():
    df, g = _random_dag_data(n=10, d=3, seed=9)
    aug = augment(df, g, threshold=0.05)
    w = aug.weights
    assert aug.effective_sample_size == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-12)


def _df():
    return pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.5], "b": [1.0, 0.5, 2.0, 3.0]})


G = CausalGraph(["a", "b"], [("a", "b")])


@pytest.mark.parametrize(
    "data, kwargs, error, match",
    [
        (_df().assign(a=[0.0, np.nan, 2.0, 3.0]), {}, ValueError, "column 'a' has 1 missing"),
        (_df().assign(b=[0.0, np.inf, 2.0, 3.0]), {}, ValueError, "column 'b' has 1 infinite"),
        (_df().assign(b=pd.to_datetime(["2020-01-01"] * 4)), {}, ValueError, "'b' has non-numeric dtype.*categorical"),
        (_df().assign(a=[1.0] * 4), {}, ValueError, "column 'a' is constant"),
        (_df().head(1), {}, ValueError, "at least 2"),
        (_df().rename(columns={"b": "c"}), {}, ValueError, r"missing from the data: \['b'\].*missing from the graph: \['c'\]"),
        (_df(), {"threshold": 1.0}, ValueError, r"threshold must lie in \[0, 1\)"),
        (_df(), {"threshold": -0.1}, ValueError, r"threshold must lie in \[0, 1\)"),
        (_df(), {"bandwidth": 0.0}, ValueError, "positive finite"),
        (_df(), {"bandwidth": {"a": -1.0}}, ValueError, "bandwidth of column 'a'"),
        (_df(), {"bandwidth_scale": float("nan")}, ValueError, "bandwidth_scale"),
        (_df(), {"bandwidth": "magic"}, ValueError, "unknown bandwidth rule"),
        (_df(), {"kernel": "box"}, ValueError, "unknown kernel"),
        (_df(), {"categorical": ["zz"]}, ValueError, "not in the data"),
        (_df().to_numpy(), {}, TypeError, "pandas DataFrame"),
    ],
)
def test_bad_input_is_named(data, kwargs, error, match):
    with pytest.raises(error, match=match):
        augment(data, G, **kwargs)


def test_cyclic_graph_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        augment(_df(), {"nodes": ["a", "b"], "directed": [["a", "b"], ["b", "a"]]})


def test_empty_result_warns_with_reason():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    with pytest.warns(UserWarning, match="2 root variables.*1/n\\^2"):
        aug = augment(df, CausalGraph(["a", "b"]), threshold=1e-2)
    assert len(aug) == 0 and aug.mass == 0.0 and list(aug.data.columns) == ["a", "b"]


@pytest.mark.slow
def test_overflow_raises_with_a_threshold_that_fits():
    df, g = _random_dag_data(n=20, d=3, seed=10)
    with pytest.raises(cda.AugmentationOverflowError, match=r"rows have weight.*raise threshold to at least"):
        augment(df, g, threshold=0.0, max_rows=100)
    needed = 20 / 4096
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aug = augment(df, g, threshold=needed, max_rows=4096)
    assert 0 < len(aug) <= 4096


@pytest.mark.slow
@pytest.mark.parametrize("parents", [1, 2])
def test_several_devices_give_the_one_device_result(parents):
    import jax

    assert len(jax.devices()) >= 4, "conftest forces 4 host devices"
    df, g = _random_dag_data(n=40, d=4, seed=11, parents=parents)
    one = augment(df, g, threshold=1e-3, devices=1)
    four = augment(df, g, threshold=1e-3, devices=4)
    assert len(one) > 0
    np.testing.assert_array_equal(four.source_rows, one.source_rows)
    np.testing.assert_array_equal(four.log_weights, one.log_weights)


# Pruned steps: the leaves scored per row are forced (the cost model would not prune at these
# tiny n); any number must give the full scan's rows and weights, the rest falling back. At
# n = 24 training points lie a few bandwidths apart only for bandwidth scales ≤ 0.05 (and the
# oracle's linear-space kernels underflow below about 0.05).
PRUNE_CASES = {
    "chain_0.05": ("chain", 0.05, "gaussian"),
    "chain_0.02": ("chain", 0.02, "gaussian"),
    "chain_epanechnikov": ("chain", 0.3, "epanechnikov"),
    "categorical": ("categorical", 0.02, "gaussian"),
    "admg": ("admg4", 0.1, "gaussian"),
}


@pytest.mark.parametrize("name", list(PRUNE_CASES))
def test_pruned_step_matches_brute_force(monkeypatch, name):
    case, scale, kernel = PRUNE_CASES[name]
    nodes, directed, bidirected, categorical = CASES[case]
    n = 24 if len(nodes) == 3 else 12
    df = _data(case, n, seed=11)
    g = CausalGraph(nodes, directed, bidirected)
    h = {v: scale * _normal_reference(df[v].to_numpy()) for v in nodes if v not in categorical}
    monkeypatch.setattr(pruned, "choose_leaves", lambda *a, **k: 2)
    monkeypatch.setattr(pruned, "leaf_size", lambda n: 2)
    monkeypatch.setattr(engine, "_INTERVAL_MIN_ROWS_PER_N", 10**9)  # one-column pillows too
    threshold = 0.05
    aug = augment(df, g, threshold=threshold, kernel=kernel, bandwidth=h, categorical=categorical, devices=1)
    steps = [s for s in aug.config["steps"] if s["path"] == "pruned"]
    assert steps, aug.config["steps"]
    # The bounds settle most rows: most candidates are never scored.
    skipped = sum(s["pruned_fraction"] * s["rows_in"] for s in steps) / sum(s["rows_in"] for s in steps)
    assert skipped > 0.5, steps
    if case == "admg4":
        # A three-column pillow at this bandwidth underflows the oracle's linear-space kernels
        # (0/0 for value combinations far from every training row); the log-space numpy twin,
        # itself checked against the oracle above, is the reference.
        expected = _as_dict(augment_numpy(df, g, threshold=threshold, kernel=kernel, bandwidth=h))
    else:
        expected = _brute_force_of(df, g, nodes, h, categorical, threshold / n, kernel)
    got = _as_dict(aug)
    assert len(expected) > 0 and set(got) == set(expected)
    for key, w in expected.items():
        assert got[key] == pytest.approx(w, rel=RTOL, abs=1e-300)


@pytest.mark.parametrize("scale", [0.1, 0.05])
def test_pruned_path_is_chosen_and_exact_at_small_bandwidths(monkeypatch, scale):
    # The automatic choice, at a size where pruning pays: same rows and weights as numpy.
    df, g = _random_dag_data(n=400, d=4, seed=8)
    monkeypatch.setattr(engine, "_INTERVAL_MIN_ROWS_PER_N", 10**9)
    a = augment(df, g, threshold=1e-3, bandwidth_scale=scale, devices=1)
    paths = [s["path"] for s in a.config["steps"]]
    assert "pruned" in paths, a.config["steps"]
    assert a.config["pruned_fraction"] > 0.5, a.config["steps"]
    b = augment_numpy(df, g, threshold=1e-3, bandwidth_scale=scale)
    assert len(a) == len(b) > 0
    np.testing.assert_array_equal(a.source_rows, b.source_rows)
    np.testing.assert_allclose(a.log_weights, b.log_weights, rtol=RTOL)


def test_pruned_fallbacks_are_counted_and_exact(monkeypatch):
    # One leaf per row cannot settle rows whose mass spreads over several leaves: they fall
    # back to the full scan, are counted, and the result is unchanged.
    df, g = _random_dag_data(n=64, d=3, seed=9)
    monkeypatch.setattr(pruned, "choose_leaves", lambda *a, **k: 1)
    a = augment(df, g, threshold=1e-3, bandwidth_scale=1.0, devices=1)
    steps = [s for s in a.config["steps"] if s["path"] == "pruned"]
    assert steps and sum(s["fallback_rows"] for s in steps) > 0
    b = augment_numpy(df, g, threshold=1e-3, bandwidth_scale=1.0)
    np.testing.assert_array_equal(a.source_rows, b.source_rows)
    np.testing.assert_allclose(a.log_weights, b.log_weights, rtol=RTOL)


def test_small_steps_run_in_numpy_and_are_recorded(monkeypatch):
    monkeypatch.setattr(front, "NUMPY_MAX_CANDIDATES", 1 << 17)
    df, g = _random_dag_data(n=40, d=4, seed=10)
    a = augment(df, g, threshold=1e-2, devices=1)
    assert {s["path"] for s in a.config["steps"]} == {"numpy"}
    assert [s["rows_in"] for s in a.config["steps"]][0] == 1
    b = augment_numpy(df, g, threshold=1e-2)
    np.testing.assert_array_equal(a.source_rows, b.source_rows)
    np.testing.assert_allclose(a.log_weights, b.log_weights, rtol=RTOL)
