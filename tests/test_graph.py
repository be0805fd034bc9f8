import json

import networkx as nx
import pandas as pd
import pytest

from causalda_jax import CausalGraph, as_graph


def test_constructors_agree(tmp_path):
    edges = [("a", "b"), ("b", "c"), ("a", "c")]
    g1 = CausalGraph(["a", "b", "c"], edges, bidirected=[("a", "c")])
    g2 = CausalGraph.from_networkx(nx.DiGraph(edges), bidirected=[("c", "a")])
    g3 = CausalGraph.from_edges(edges, [("a", "c")])
    adj = pd.DataFrame(0, index=list("abc"), columns=list("abc"))
    for u, v in edges:
        adj.loc[u, v] = 1
    g4 = CausalGraph.from_adjacency(adj)
    path = tmp_path / "g.json"
    g1.to_json(path)
    g5 = CausalGraph.from_json(path)
    assert g1 == g2 == g3 == g5
    assert set(g4.directed) == set(edges) and g4.is_dag
    assert json.loads(g1.to_json()) == {"nodes": ["a", "b", "c"], "directed": [list(e) for e in edges],
                                        "bidirected": [["a", "c"]]}
    assert as_graph(str(path)) == g1 and as_graph(nx.DiGraph(edges)).nodes == ("a", "b", "c")


def test_topological_order_respects_edges_and_node_order():
    g = CausalGraph(["z", "y", "x", "w"], [("x", "y"), ("w", "y")])
    order = g.topological_order()
    assert order.index("x") < order.index("y") and order.index("w") < order.index("y")
    assert order == ("z", "x", "w", "y")


@pytest.mark.parametrize(
    "nodes, directed, bidirected, expected",
    [
        # DAG: the pillow is the parent set.
        ("abc", [("a", "b"), ("b", "c")], [], {"a": (), "b": ("a",), "c": ("b",)}),
        # Front-door style: a <-> c; c's district among {a, b, c} is {a, c}, with parents {b}.
        ("abc", [("a", "b"), ("b", "c")], [("a", "c")], {"a": (), "b": ("a",), "c": ("a", "b")}),
        # Chain of confounding: d's district {b, d} plus its parents {a, c} (c -> d) and b's parent a.
        ("abcd", [("a", "b"), ("c", "d")], [("b", "d")], {"a": (), "b": ("a",), "c": (), "d": ("a", "b", "c")}),
        # A bidirected edge to a later node does not enter an earlier pillow.
        ("abc", [("a", "c")], [("b", "c")], {"a": (), "b": (), "c": ("a", "b")}),
    ],
)
def test_markov_pillow_hand_derived(nodes, directed, bidirected, expected):
    g = CausalGraph(list(nodes), directed, bidirected)
    assert g.markov_pillows() == expected


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: CausalGraph("abc", [("a", "b"), ("b", "c"), ("c", "a")]), r"cycle: .*a.*b.*c"),
        (lambda: CausalGraph("ab", [("a", "a")]), "self loops"),
        (lambda: CausalGraph(["a", "a"]), "duplicate node names.*'a'"),
        (lambda: CausalGraph("ab", [("a", "q")]), r"not in the graph: \['q'\]"),
        (lambda: CausalGraph.from_dict({"nodes": ["a"], "edges": []}), "unknown keys"),
        (lambda: as_graph(nx.Graph()), "undirected"),
    ],
)
def test_graph_errors_name_the_culprit(build, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build()


def test_check_columns_lists_both_sides():
    g = CausalGraph(["a", "b"])
    with pytest.raises(ValueError, match=r"missing from the data: \['b'\].*missing from the graph: \['c'\]"):
        g.check_columns(["a", "c"])


def test_bad_json(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        CausalGraph.from_json(p)
    with pytest.raises(FileNotFoundError, match="graph file not found"):
        CausalGraph.from_json(tmp_path / "nope.json")
