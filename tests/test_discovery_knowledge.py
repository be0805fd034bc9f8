"""Knowledge: contradictions raise with named culprits, JSON/YAML round trips, masks vs brute force."""

import itertools

import networkx as nx
import numpy as np
import pytest

from causalda_jax.discovery import Knowledge


def test_required_and_forbidden_named():
    with pytest.raises(ValueError, match=r"both required and forbidden: \[\['a', 'b'\]\]"):
        Knowledge(required=[("a", "b"), ("b", "c")], forbidden=[("a", "b")])


def test_required_against_tiers_named():
    with pytest.raises(ValueError, match=r"later tier to an earlier one: c \(tier 1\) -> a \(tier 0\)"):
        Knowledge(required=[("c", "a")], tiers=[["a", "b"], ["c"]])


def test_required_cycle_named():
    with pytest.raises(ValueError, match=r"cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)"):
        Knowledge(required=[("a", "b"), ("b", "c"), ("c", "a")])


def test_node_in_two_tiers_and_bad_confidence():
    with pytest.raises(ValueError, match=r"\['b'\] appear in more than one tier"):
        Knowledge(tiers=[["a", "b"], ["b"]])
    with pytest.raises(ValueError, match="confidence must be in"):
        Knowledge(required=[("a", "b", 1.5)])
    with pytest.raises(ValueError, match="self loops"):
        Knowledge(forbidden=[("a", "a")])


def test_unknown_names_named():
    k = Knowledge(required=[("age", "incme")], tiers=[["age"], ["spend", "ghost"]])
    with pytest.raises(ValueError, match=r"\['ghost', 'incme'\]"):
        k.check_nodes(["age", "income", "spend"])


def test_unknown_keys_in_dict():
    with pytest.raises(ValueError, match=r"unknown keys in knowledge: \['requird'\]"):
        Knowledge.from_dict({"requird": [["a", "b"]]})


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_round_trip(tmp_path, suffix):
    k = Knowledge(
        required=[("a", "b"), ("b", "c", 0.7)],
        forbidden=[("d", "a")],
        tiers=[["a"], ["b", "c"], ["d"]],
        confidence={("d", "a"): 0.9},
    )
    path = tmp_path / f"knowledge{suffix}"
    k.save(path)
    back = Knowledge.load(path)
    assert back == k
    assert back.confidence("b", "c") == 0.7 and back.confidence("d", "a") == 0.9 and back.confidence("a", "b") == 1.0
    assert back.tiers == (("a",), ("b", "c"), ("d",))


def test_confidence_list_in_dict():
    k = Knowledge.from_dict({"required": [["a", "b"]], "confidence": [["a", "b", 0.5]]})
    assert k.confidence("a", "b") == 0.5 and not k.is_hard("a", "b")


def test_masks_match_brute_force():
    nodes = ["a", "b", "c", "d", "e"]
    k = Knowledge(
        required=[("a", "b"), ("b", "c"), ("d", "e", 0.6)],
        forbidden=[("e", "a"), ("c", "d", 0.8)],
        tiers=[["a", "d"], ["b", "c", "e"]],
    )
    m = k.masks(nodes)
    hard = nx.DiGraph([("a", "b"), ("b", "c")])
    tier = {"a": 0, "d": 0, "b": 1, "c": 1, "e": 1}
    for (i, u), (j, v) in itertools.product(enumerate(nodes), repeat=2):
        expect = (
            u != v
            and tier[u] <= tier[v]
            and (u, v) != ("e", "a")
            and not (v in hard and u in hard and nx.has_path(hard, v, u))
        )
        assert m["allowed"][i, j] == expect, (u, v)
    assert m["required"].sum() == 2 and m["required"][0, 1] and m["required"][1, 2]
    np.testing.assert_allclose(m["penalty"][3, 4], 0.4)  # soft required: 1 - c
    np.testing.assert_allclose(m["penalty"][2, 3], 1 / 0.2)  # soft forbidden: 1 / (1 - c)
    assert m["penalty"][0, 1] == 0.0 and m["penalty"][4, 0] == 1.0
    assert not m["allowed"][2, 0]  # c -> a would close a -> b -> c
    assert k.violation("c", "b") == "reverses required" and k.violation("c", "a") == "tiers"
    assert k.violation("e", "a") == "forbidden" and k.violation("a", "c") is None
