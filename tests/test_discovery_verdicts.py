"""Disagreement verdicts: no direction dispute the knowledge rules out, plain sentences, the CSV."""

import numpy as np
import pandas as pd
import pytest

from causalda_jax.discovery import Knowledge, compelled_edges, discover, make_ci_test
from causalda_jax.discovery._report import build_report


def _report(x, nodes, knowledge, data_edges):
    d = len(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    data_graph = np.zeros((d, d), bool)
    for u, v in data_edges:
        data_graph[index[u], index[v]] = True
    masks = knowledge.masks(nodes)
    empty = np.zeros((0, d, d), bool)
    return build_report(
        nodes=nodes, knowledge=knowledge, test=make_ci_test(x, "fisherz"), graph=masks["required"],
        data_graph=data_graph, data_strength=data_graph.astype(float), boot_graphs=empty, boot_data_graphs=empty,
        allowed=masks["allowed"], required=masks["required"],
    )


@pytest.fixture(scope="module")
def collider():
    """c -> a <- b: the data alone compel c -> a (a v-structure)."""
    rng = np.random.default_rng(0)
    b, c = rng.normal(size=(2, 2000))
    a = b + c + 0.5 * rng.normal(size=2000)
    return np.column_stack([a, b, c]), ["a", "b", "c"], [("b", "a"), ("c", "a")]


def test_reverse_ruled_out_by_tiers_is_no_dispute(collider):
    x, nodes, data_edges = collider
    assert compelled_edges(np.array([[0, 0, 0], [1, 0, 0], [1, 0, 0]], bool))[2, 0]  # c -> a is compelled
    # The expert requires a -> c and the tiers rule out c -> a (like trend -> sales, price -> sales).
    know = Knowledge(required=[("a", "c")], tiers=[["a", "b"], ["c"]])
    rep = _report(x, nodes, know, data_edges)
    row = rep.edges.set_index(["source", "target"]).loc[("a", "c")]
    assert row["verdict"] == "supported"
    assert "would orient it c -> a, which the knowledge rules out" in row["sentence"]
    assert rep.conflicts.empty and rep.disagreements() == []
    # Without the tiers the reverse is allowed: then the data do dispute the direction.
    open_know = Knowledge(required=[("a", "c")])
    rep = _report(x, nodes, open_know, data_edges)
    row = rep.edges.set_index(["source", "target"]).loc[("a", "c")]
    assert row["verdict"] == "direction disputed"
    assert rep.disagreements() == [row["sentence"]]
    assert row["sentence"].startswith("The data orient c -> a, against the required a -> c")


def test_forbidden_both_ways_dependent_pair_is_not_a_conflict():
    rng = np.random.default_rng(1)
    z = rng.normal(size=2000)  # a hidden common cause
    a, b = z + 0.5 * rng.normal(size=2000), z + 0.5 * rng.normal(size=2000)
    e = rng.normal(size=2000)
    x = np.column_stack([a, b, e])
    know = Knowledge(forbidden=[("a", "b"), ("b", "a")])
    rep = _report(x, ["a", "b", "e"], know, [("a", "b")])  # one edge: orientation not compelled
    verdicts = rep.edges.set_index(["source", "target"])["verdict"]
    assert verdicts[("a", "b")] == verdicts[("b", "a")] == "dependent"
    assert rep.conflicts.empty and rep.dependent_pairs() == [("a", "b")]
    assert "common cause outside the data" in rep.to_markdown()
    # Once the data compel the orientation (a -> b <- e, a and e apart), it is a conflict.
    x2 = np.column_stack([a, a + e + 0.5 * rng.normal(size=2000), e])
    rep = _report(x2, ["a", "b", "e"], know, [("a", "b"), ("e", "b")])
    row = rep.edges.set_index(["source", "target"]).loc[("a", "b")]
    assert row["verdict"] == "conflict"
    assert row["sentence"].startswith("The data support a -> b, which the knowledge forbids (CI test p = ")
    assert rep.disagreements() == [row["sentence"]]


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_marketing_tiers_never_dispute_edges_into_the_target(tmp_path):
    # The marketing mix case: every variable is required to drive sales, sales is the last tier.
    from causalda_jax.mmm import MMMConfig, default_knowledge, feature_table, simulate, validate_weekly
    from causalda_jax.mmm._simulate import CONTROLS

    sim = simulate(weeks=80, channels=4, seed=0)
    cfg = MMMConfig(target="sales", channels=sim.channels, controls=CONTROLS, mediators=(sim.mediator,))
    feats = feature_table(validate_weekly(sim.data, cfg), cfg, sim.params["decay"])
    know = default_knowledge(cfg)
    res = discover(feats, know, standardize=True, n_bootstrap=2, threshold=0.15)
    e = res.report.edges
    disputed = e[e["verdict"] == "direction disputed"]
    for r in disputed.itertuples():
        assert know.tier(r.target) <= know.tier(r.source), (r.source, r.target)
    into_sales = e[(e["kind"] == "required") & (e["target"] == "sales")]
    assert len(into_sales) == len(feats.columns) - 1
    assert not (into_sales["verdict"] == "direction disputed").any()
    # The data-only fits do compel some of these edges out of sales (the reverse the tiers forbid):
    # a verdict that ignored the tiers would dispute them.
    compelled_out = into_sales[(into_sales["reverse_compelled_frequency"] >= 0.5)
                               & (into_sales["verdict"] != "not supported")]
    assert len(compelled_out) >= 1
    assert (compelled_out["verdict"] == "supported").all()
    assert compelled_out["sentence"].str.contains("which the knowledge rules out").all()
    # Every real disagreement is one sentence naming both ends; the CSV holds every row.
    for r in res.report.conflicts.itertuples():
        assert r.source in r.sentence and r.target in r.sentence
    path = res.report.to_csv(tmp_path / "disagreements.csv")
    back = pd.read_csv(path)
    assert len(back) == len(e) and back["sentence"].notna().all()
