"""Random SCM generator: degree law, standardisation, roots, outliers, mechanisms."""

import networkx as nx
import numpy as np
import pytest

from causalda_jax.scm import MECHANISMS, random_dag, random_scm
from causalda_jax.scm._mechanisms import _glorot_mlp, _gp_sample


@pytest.mark.parametrize("n_nodes, degree", [(10, 3.0), (10, 0.0), (8, 7.0), (20, 1.5)])
def test_expected_degree_matches_request(n_nodes, degree):
    # 2E/n with E ~ Binomial(n(n-1)/2, p), p = degree/(n-1): mean = degree exactly.
    # Over 300 seeds the mean must lie within 4 standard errors (plus an exact zero when degree = 0).
    seeds = 300
    degrees = [2 * random_dag(n_nodes, degree, seed=s).number_of_edges() / n_nodes for s in range(seeds)]
    pairs = n_nodes * (n_nodes - 1) / 2
    p = degree / (n_nodes - 1)
    se = np.sqrt(4 * pairs * p * (1 - p) / n_nodes**2 / seeds)
    assert abs(np.mean(degrees) - degree) <= 4 * se + 1e-12


def test_dag_is_acyclic_and_named():
    g = random_dag(12, 5, seed=4)
    assert nx.is_directed_acyclic_graph(g)
    assert list(g.nodes) == [f"V{i}" for i in range(12)]


def test_degree_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="expected_degree"):
        random_dag(5, 5)


@pytest.mark.parametrize("mechanism", sorted(MECHANISMS))
def test_every_mechanism_standardised_and_reproducible(mechanism):
    a, ga = random_scm(6, 80, mechanism=mechanism, seed=7)
    b, gb = random_scm(6, 80, mechanism=mechanism, seed=7)
    c, _ = random_scm(6, 80, mechanism=mechanism, seed=8)
    assert a.shape == (80, 6) and a.dtypes.eq(np.float64).all()
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert set(ga.edges) == set(gb.edges)
    assert not np.allclose(a.to_numpy(), c.to_numpy())
    np.testing.assert_allclose(a.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(a.std(ddof=0), 1, atol=1e-12)


def test_gmm_roots_are_shuffled_and_independent():
    # Degree 0: every node is an independent GMM root. Grouped-by-component rows (the toolbox's
    # behaviour) give a lag-1 autocorrelation near 1 and correlated roots; here both are ~N(0, 1/n).
    n = 4000
    data, graph = random_scm(4, n, expected_degree=0, root="gmm", seed=1)
    assert graph.number_of_edges() == 0
    x = data.to_numpy()
    bound = 4 / np.sqrt(n)
    for j in range(4):
        assert abs(np.corrcoef(x[1:, j], x[:-1, j])[0, 1]) < bound
    corr = np.corrcoef(x.T)
    assert np.abs(corr[np.triu_indices(4, 1)]).max() < bound


def test_linear_noiseless_child_equals_parent():
    # One edge, linear with a positive coefficient and no noise: after standardisation child == parent.
    data, graph = random_scm(2, 200, expected_degree=1, mechanism="linear", noise_scale=0.0, seed=0)
    (u, v), = graph.edges
    np.testing.assert_allclose(data[v], data[u], atol=1e-10)


def test_outliers_count_and_range():
    n, frac = 200, 0.1
    data, graph = random_scm(5, n, outlier_fraction=frac, mechanism="linear", seed=2)
    clean, _ = random_scm(5, n, outlier_fraction=0.0, mechanism="linear", seed=2)
    rows = np.asarray(graph.graph["outlier_rows"])
    assert len(rows) == round(frac * n) and len(set(rows)) == len(rows)
    keep = np.setdiff1d(np.arange(n), rows)
    for col in data.columns:
        # Other rows are untouched up to the final standardisation (an affine map per column),
        # and outliers lie between the column's min and max before outliers were added.
        slope, intercept = np.polyfit(clean[col].to_numpy()[keep], data[col].to_numpy()[keep], 1)
        np.testing.assert_allclose(slope * clean[col].to_numpy()[keep] + intercept, data[col].to_numpy()[keep], atol=1e-9)
        back = (data[col].to_numpy()[rows] - intercept) / slope
        assert back.min() >= clean[col].min() - 1e-9 and back.max() <= clean[col].max() + 1e-9


def test_gp_sample_covariance_is_rbf():
    # Empirical covariance of 4000 draws at three points vs exp(-|x - x'|^2 / 2); se ~ 1/sqrt(4000).
    x = np.array([[0.0], [0.5], [2.0]])
    rng = np.random.default_rng(0)
    draws = np.stack([_gp_sample(x, rng) for _ in range(4000)])
    expected = np.exp(-0.5 * (x - x.T) ** 2)
    np.testing.assert_allclose(np.cov(draws.T), expected, atol=0.08)


def test_nn_weights_are_glorot_uniform():
    mlp = _glorot_mlp(3, 20, np.random.default_rng(0))
    first, second = (np.asarray(layer.weight) for layer in mlp.layers)
    assert first.shape == (20, 3) and second.shape == (1, 20)
    for w in (first, second):
        limit = np.sqrt(6 / sum(w.shape))
        assert np.abs(w).max() <= limit
    # The default (torch-like) init bounds the second layer by 1/sqrt(20) ~ 0.22; Glorot by ~0.53.
    assert np.abs(second).max() > 1 / np.sqrt(20)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"mechanism": "cubic"}, "mechanism"),
        ({"noise": "cauchy"}, "noise"),
        ({"root": "beta"}, "root"),
        ({"outlier_fraction": 1.5}, "outlier_fraction"),
        ({"noise_scale": -1.0}, "noise_scale"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, word):
    with pytest.raises(ValueError, match=word):
        random_scm(3, 10, expected_degree=1, **kwargs)
