"""DAGMA and PC: recovery on linear-Gaussian data from known DAGs, knowledge handling, no retrace."""

import itertools

import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest

from causalda_jax.discovery._ci_tests import make_ci_test
from causalda_jax.discovery._dagma import DagmaConfig, linear_fitter, mlp_fitter
from tracing import count_traces
from causalda_jax.discovery._pc import pc


def linear_gaussian(d, n, seed, degree=2.0, low=0.8, high=2.0):
    """Random DAG (Erdos-Renyi, mean degree ``degree``) with weights of magnitude in [low, high]."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.uniform(size=(d, d)) < degree / (d - 1), 1)
    w = upper * rng.uniform(low, high, (d, d)) * rng.choice([-1.0, 1.0], (d, d))
    perm = rng.permutation(d)
    w = w[np.ix_(perm, perm)]
    x = np.zeros((n, d))
    for j in nx.topological_sort(nx.DiGraph(w != 0)):
        x[:, j] = x @ w[:, j] + rng.normal(size=n)
    return x, w != 0


def shd(estimate, truth):
    """Structural Hamming distance: missing + extra edges, a reversed edge counted once."""
    est_sk, tru_sk = estimate | estimate.T, truth | truth.T
    skeleton = int(np.sum(np.triu(est_sk != tru_sk)))
    reversed_ = int(np.sum(np.triu((estimate & truth.T) | (estimate.T & truth))))
    return skeleton + reversed_


def _cov(x):
    return jnp.asarray(np.cov(x, rowvar=False, bias=True), jnp.float32)


@pytest.mark.standard_promotion("optax")
@pytest.mark.parametrize("seed", [pytest.param(0, marks=pytest.mark.slow), 1, 2])
def test_dagma_linear_recovers_strong_dag(seed):
    # Oracle: the true DAG. Equal noise variances make the linear-Gaussian DAG identifiable;
    # with n=1000 and |weights| >= 0.8 the thresholded fit should be within SHD 1.
    x, truth = linear_gaussian(8, 1000, seed)
    off = 1 - jnp.eye(8)
    w = np.asarray(linear_fitter(1500)(_cov(x), off, off, DagmaConfig.make()))
    est = np.abs(w) > 0.3
    assert nx.is_directed_acyclic_graph(nx.DiGraph(est))
    assert shd(est, truth) <= 1


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_dagma_masks_are_exact_and_vmapped_batch_matches():
    # Same shapes and step count as the recovery test, so the single fit reuses its executable.
    x, truth = linear_gaussian(8, 1000, 3)
    off = np.ones((8, 8), np.float32) - np.eye(8, dtype=np.float32)
    masked = off.copy()
    i, j = np.argwhere(truth)[0]
    masked[i, j] = 0.0
    config = DagmaConfig.make()
    fit = linear_fitter(1500)
    w = np.asarray(fit(_cov(x), jnp.asarray(masked), jnp.asarray(off), config))
    assert w[i, j] == 0.0 and np.all(w[np.eye(8, dtype=bool)] == 0.0)
    # vmap over two problems equals two separate fits (float32 over 6000 Adam steps: atol 1e-3).
    batch = linear_fitter(1500, batched=True)(
        jnp.stack([_cov(x), _cov(x)]), jnp.stack([jnp.asarray(off), jnp.asarray(masked)]),
        jnp.stack([jnp.asarray(off)] * 2), config)
    w_free = np.asarray(fit(_cov(x), jnp.asarray(off), jnp.asarray(off), config))
    np.testing.assert_allclose(np.asarray(batch[0]), w_free, atol=1e-3)
    np.testing.assert_allclose(np.asarray(batch[1]), w, atol=1e-3)


@pytest.mark.standard_promotion("optax")
def test_dagma_no_retrace_across_values():
    # After one call (which may trace), new data and new hyper-parameter values must not retrace.
    fit = linear_fitter(1500)
    off = jnp.ones((8, 8)) - jnp.eye(8)
    x, _ = linear_gaussian(8, 200, 0)
    with count_traces() as first:
        fit(_cov(x), off, off, DagmaConfig.make())
    with count_traces() as later:
        for seed, lam in [(1, 0.05), (2, 0.1)]:
            x, _ = linear_gaussian(8, 200, seed)
            fit(_cov(x), off * 0.5, off, DagmaConfig.make(lambda1=lam, lr=0.01 * seed, mu_init=0.5 + seed))
    assert first["fit_linear"] <= 1 and later["fit_linear"] == 0


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_dagma_mlp_orients_nonlinear_pair():
    # Additive-noise model b = sin(2a) + e is identifiable; the MLP should give a -> b more weight.
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    b = np.sin(2 * a) + 0.2 * rng.normal(size=300)
    c = rng.normal(size=300)
    x = jnp.asarray(np.c_[a, b, c] - np.c_[a, b, c].mean(0), jnp.float32)
    off = 1 - jnp.eye(3)
    fit = mlp_fitter(250, 8)
    import jax

    with count_traces() as traces:
        s = np.asarray(fit(x, off, off, DagmaConfig.make(), jax.random.key(0)))
        fit(x, off, off, DagmaConfig.make(lambda1=0.03), jax.random.key(1))
    assert traces["fit_mlp"] == 1
    assert s[0, 1] > 0.3 and s[0, 1] > 2 * s[1, 0]
    assert s[0, 2] < 0.3 and s[2, 1] < 0.3


def test_pc_collider_and_chain():
    rng = np.random.default_rng(0)
    n = 2000
    a, c = rng.normal(size=n), rng.normal(size=n)
    b = a + c + rng.normal(size=n)
    d = b + rng.normal(size=n)
    out = pc(4, make_ci_test(np.c_[a, b, c, d]))
    # a -> b <- c is a v-structure; Meek R1 then orients b -> d.
    expect = np.zeros((4, 4), bool)
    expect[0, 1] = expect[2, 1] = expect[1, 3] = True
    np.testing.assert_array_equal(out.directed, expect)
    np.testing.assert_array_equal(out.dag, expect)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pc_skeleton_matches_causal_learn(seed):
    import causallearn.search.ConstraintBased.PC as cl
    x, _ = linear_gaussian(8, 1000, seed)
    cg = cl.pc(x, 0.05, "fisherz", stable=True, show_progress=False)
    ours = pc(8, make_ci_test(x), alpha=0.05).dag
    np.testing.assert_array_equal(ours | ours.T, cg.G.graph != 0)


def test_pc_background_knowledge():
    rng = np.random.default_rng(1)
    n = 1000
    a = rng.normal(size=n)
    b = a + rng.normal(size=n)
    c = rng.normal(size=n)  # independent of everything
    x = np.c_[a, b, c]
    allowed = ~np.eye(3, dtype=bool)
    required = np.zeros((3, 3), bool)
    required[2, 0] = True  # required c -> a, against the data
    allowed[1, 0] = False  # forbid b -> a: orients a -> b
    out = pc(3, make_ci_test(x), allowed=allowed, required=required)
    assert out.dag[2, 0] and out.dag[0, 1] and not out.dag[1, 0]
    allowed[0, 1] = False  # both directions forbidden: never adjacent
    out = pc(3, make_ci_test(x), allowed=allowed, required=required)
    assert not out.dag[0, 1] and not out.dag[1, 0]


def test_shd_helper_brute_force():
    # The helper the tests rely on, against a direct count over unordered pairs.
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = np.triu(rng.uniform(size=(5, 5)) < 0.4, 1)
        b = np.triu(rng.uniform(size=(5, 5)) < 0.4, 1)
        b = np.where(rng.uniform(size=(5, 5)) < 0.5, b, b.T)
        count = 0
        for i, j in itertools.combinations(range(5), 2):
            if (a[i, j], a[j, i]) != (b[i, j], b[j, i]):
                count += 1
        assert shd(a, b) == count


def test_greedy_dag_is_acyclic_and_maximal():
    # Oracle by brute force: the output is a DAG, holds every required edge and no disallowed
    # edge, and every allowed candidate above the threshold that was left out would close a cycle.
    from causalda_jax.discovery._acyclic import greedy_dag

    rng = np.random.default_rng(0)
    for _ in range(30):
        d = 6
        strength = rng.normal(size=(d, d))
        np.fill_diagonal(strength, 0.0)
        allowed = rng.uniform(size=(d, d)) < 0.8
        required = np.zeros((d, d), bool)
        required[0, 1] = required[1, 2] = True
        allowed |= required
        out = greedy_dag(strength, threshold=0.5, allowed=allowed, required=required)
        g = nx.DiGraph(list(zip(*np.nonzero(out))))
        g.add_nodes_from(range(d))
        assert nx.is_directed_acyclic_graph(g)
        assert out[0, 1] and out[1, 2]
        assert not np.any(out & ~allowed)
        assert not np.any(out & (np.abs(strength) <= 0.5) & ~required)
        for i, j in zip(*np.nonzero((np.abs(strength) > 0.5) & allowed & ~out)):
            if i != j:
                assert nx.has_path(g, j, i)


def _v_structures(adj):
    d = adj.shape[0]
    sk = adj | adj.T
    return {(i, k, j) for k in range(d) for i, j in itertools.combinations(range(d), 2)
            if adj[i, k] and adj[j, k] and not sk[i, j]}


def test_compelled_edges_match_brute_force_equivalence_class():
    # Oracle: enumerate every orientation of the skeleton, keep the acyclic ones with the same
    # v-structures (the Markov equivalence class, Verma & Pearl), and intersect their edges.
    from causalda_jax.discovery._cpdag import compelled_edges

    rng = np.random.default_rng(0)
    for _ in range(15):
        d = 5
        dag = np.triu(rng.uniform(size=(d, d)) < 0.5, 1)
        perm = rng.permutation(d)
        dag = dag[np.ix_(perm, perm)]
        pairs = [(i, j) for i, j in itertools.combinations(range(d), 2) if dag[i, j] or dag[j, i]]
        target = _v_structures(dag)
        common = None
        for bits in itertools.product([False, True], repeat=len(pairs)):
            cand = np.zeros((d, d), bool)
            for (i, j), flip in zip(pairs, bits):
                cand[(j, i) if flip else (i, j)] = True
            if nx.is_directed_acyclic_graph(nx.DiGraph(list(zip(*np.nonzero(cand))))) and _v_structures(cand) == target:
                common = cand.copy() if common is None else common & cand
        np.testing.assert_array_equal(compelled_edges(dag), common & dag)
