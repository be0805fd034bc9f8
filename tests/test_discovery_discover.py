"""discover(): hard knowledge always holds, conflicts are reported, recovery on a known DAG."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from causalda_jax import CausalGraph
from causalda_jax.discovery import DiscoveryResult, Knowledge, discover
from causalda_jax.discovery._plot import plot_agreement

N_BOOT = 4  # one batch shape for every DAGMA call below, so the learner compiles once


def adversarial_frame(seed=0, n=800):
    """a -> b <- e strongly; c and d independent of everything."""
    rng = np.random.default_rng(seed)
    a, e, c, d = (rng.normal(size=n) for _ in range(4))
    b = 2.0 * a + 1.5 * e + rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "c": c, "d": d, "e": e})


def _check_hard_knowledge(res: DiscoveryResult, know: Knowledge):
    g = res.graph
    assert nx.is_directed_acyclic_graph(g)
    for u, v in know.required:
        assert g.has_edge(u, v), (u, v)
    for u, v in g.edges:
        assert know.allows(u, v), (u, v)
    assert nx.is_directed_acyclic_graph(res.report.consensus)


@pytest.mark.standard_promotion("optax")
@pytest.mark.parametrize("method", ["dagma", "pc"])
def test_adversarial_knowledge_is_enforced_and_reported(method):
    df = adversarial_frame()
    know = Knowledge(required=[("c", "d")], forbidden=[("a", "b")])
    res = discover(df, know, method=method, n_bootstrap=N_BOOT)
    _check_hard_knowledge(res, know)
    assert not res.graph.has_edge("a", "b")
    rows = res.report.edges.set_index(["source", "target"])
    assert rows.loc[("a", "b"), "kind"] == "forbidden"
    assert rows.loc[("a", "b"), "verdict"] == "conflict"
    assert rows.loc[("a", "b"), "p_value"] < 1e-10
    assert rows.loc[("a", "b"), "data_frequency"] >= 0.5 and rows.loc[("a", "b"), "in_data_graph"]
    assert rows.loc[("c", "d"), "verdict"] == "not supported"
    assert rows.loc[("c", "d"), "p_value"] > 0.05
    assert res.data_graph.has_edge("a", "b") and not res.data_graph.has_edge("c", "d")
    # The conflict shows up in the summary, the markdown and the drawing categories.
    assert {("a", "b"), ("c", "d")} <= set(zip(res.report.conflicts["source"], res.report.conflicts["target"]))
    md = res.report.to_markdown()
    assert "| a | b | forbidden | 1 | conflict |" in md and "## Consensus graph" in md
    cats = res.report.agreement(res.graph)
    assert cats[("a", "b")] == "conflict" and cats[("c", "d")] == "expert only" and cats[("e", "b")] == "data only"
    # Labelled adjacency, zero off the graph.
    assert list(res.adjacency.index) == list(df.columns) == list(res.adjacency.columns)
    edges = {(u, v) for u in df.columns for v in df.columns if res.adjacency.loc[u, v] != 0}
    assert edges <= set(res.graph.edges)


@pytest.mark.standard_promotion("optax")
def test_tiers_conflict_is_reported():
    df = adversarial_frame(seed=1)
    know = Knowledge(tiers=[["b"], ["a", "c", "d", "e"]])
    res = discover(df, know, n_bootstrap=N_BOOT)
    _check_hard_knowledge(res, know)
    assert res.graph.has_edge("b", "a") or not res.graph.has_edge("a", "b")
    rows = res.report.edges.set_index(["source", "target"])
    assert rows.loc[("a", "b"), "kind"] == "tiers" and rows.loc[("a", "b"), "verdict"] == "conflict"


@pytest.mark.standard_promotion("optax")
def test_soft_forbidden_edge_can_stay():
    # Confidence 0.5 doubles the L1 weight instead of masking: a strong edge survives.
    df = adversarial_frame()
    know = Knowledge(forbidden=[("a", "b", 0.5)], required=[("c", "d")])
    res = discover(df, know, n_bootstrap=N_BOOT)
    assert res.graph.has_edge("a", "b")
    assert res.report.edges.set_index(["source", "target"]).loc[("a", "b"), "verdict"] == "conflict"


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_recovery_with_true_knowledge_on_known_dag():
    # Oracle: the generating DAG (8 variables, |weights| in [0.8, 2], n=1000). Two true edges
    # given as required; SHD of the result must be <= 1 and every bootstrap fit keeps them.
    rng = np.random.default_rng(5)
    d = 8
    w = np.triu(rng.uniform(size=(d, d)) < 2.0 / (d - 1), 1) * rng.uniform(0.8, 2.0, (d, d))
    x = np.zeros((1000, d))
    for j in range(d):
        x[:, j] = x @ w[:, j] + rng.normal(size=1000)
    names = [f"v{i}" for i in range(d)]
    truth = {(names[i], names[j]) for i, j in zip(*np.nonzero(w))}
    know = Knowledge(required=sorted(truth)[:2])
    res = discover(pd.DataFrame(x, columns=names), know, n_bootstrap=N_BOOT)
    got = set(res.graph.edges)
    missing, extra = truth - got, got - truth
    reversed_ = {(u, v) for u, v in extra if (v, u) in missing}
    assert len(missing) + len(extra) - len(reversed_) <= 1
    stab = res.report.stability.set_index(["source", "target"])
    for e in know.required:
        assert stab.loc[e, "frequency"] == 1.0


def test_input_errors_name_the_culprit():
    df = adversarial_frame(n=50)
    with pytest.raises(ValueError, match=r"not data columns: \['zz'\]"):
        discover(df, Knowledge(required=[("a", "zz")]), n_bootstrap=0)
    bad = df.assign(name=["x"] * len(df))
    with pytest.raises(ValueError, match=r"\['name'\] are not numeric"):
        discover(bad, n_bootstrap=0)
    with pytest.raises(ValueError, match=r"\['c'\] hold missing values"):
        discover(df.assign(c=np.where(np.arange(50) == 3, np.nan, df["c"])), n_bootstrap=0)
    with pytest.raises(ValueError, match="unknown method 'ges'"):
        discover(df, method="ges")
    original = df.copy()
    discover(df, {"required": [["c", "d"]]}, method="pc", n_bootstrap=0)
    pd.testing.assert_frame_equal(df, original)  # input not mutated


def test_result_serialises_and_draws(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    df = adversarial_frame()
    res = discover(df, {"required": [["c", "d"]], "forbidden": [["a", "b"]]}, method="pc", n_bootstrap=0)
    path = tmp_path / "g.json"
    res.to_json(path)
    g = CausalGraph.from_json(path)
    assert set(g.directed) == set(res.graph.edges) and g.nodes == tuple(df.columns)
    fig = plot_agreement(res, tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000 and fig is not None
    assert np.isnan(res.report.stability["frequency"]).all()


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_dagma_mlp_end_to_end_respects_knowledge():
    # The nonlinear learner's structure accuracy is tested on a pair in test_discovery_learners;
    # here: the discover() path with the vmapped MLP keeps every hard-knowledge guarantee.
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    b = np.sin(2 * a) + 0.2 * rng.normal(size=300)
    c = np.tanh(2 * b) + 0.2 * rng.normal(size=300)
    df = pd.DataFrame({"a": a, "b": b, "c": c})
    know = Knowledge(required=[("a", "c")], forbidden=[("c", "b")], tiers=[["a"], ["b", "c"]])
    res = discover(df, know, method="dagma-mlp", n_bootstrap=1, n_steps=200)
    _check_hard_knowledge(res, know)
    assert res.report.edges["kind"].tolist()[:2] == ["required", "forbidden"]
    assert (res.adjacency.to_numpy() >= 0).all()


def test_pc_with_nonlinear_ci_test_finds_nonlinear_collider():
    # a -> b <- c with b = a^2 + |c| + noise: Fisher-z sees (almost) no dependence, RCIT does.
    rng = np.random.default_rng(2)
    n = 400
    a = np.r_[(u := rng.normal(size=n // 2)), -u]
    c = rng.normal(size=n)
    b = a**2 + np.abs(c) + 0.2 * rng.normal(size=n)
    df = pd.DataFrame({"a": a, "b": b, "c": c})
    res = discover(df, method="pc", ci_test="rcit", n_bootstrap=0)
    assert set(res.graph.edges) == {("a", "b"), ("c", "b")}
    lin = discover(df, method="pc", ci_test="fisherz", n_bootstrap=0)
    assert not lin.graph.has_edge("a", "b") and not lin.graph.has_edge("b", "a")
