"""Causal graphs: directed edges plus bidirected edges for hidden confounders (ADMGs)."""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Union

import networkx as nx
import numpy as np
import pandas as pd

__all__ = ["CausalGraph", "GraphLike", "as_graph", "cycle_path"]


def cycle_path(dag: nx.DiGraph) -> str | None:
    """One directed cycle of ``dag`` written as ``a -> b -> a``, or None when it is acyclic."""
    try:
        cycle = nx.find_cycle(dag)
    except nx.NetworkXNoCycle:
        return None
    return " -> ".join(str(u) for u, _ in cycle) + f" -> {cycle[0][0]}"


def _pairs(edges: Iterable[Sequence[Hashable]] | None, kind: str) -> tuple[tuple[Hashable, Hashable], ...]:
    out = []
    for edge in edges or ():
        edge = tuple(edge)
        if len(edge) != 2:
            raise ValueError(f"each {kind} edge must be a pair [u, v]; got {list(edge)!r}")
        out.append((edge[0], edge[1]))
    return tuple(out)


class CausalGraph:
    """An acyclic directed mixed graph over named variables.

    Directed edges ``u -> v`` are causal links; bidirected edges ``u <-> v`` stand for a
    hidden common cause. With no bidirected edges this is a DAG and every conditioning set
    is the parent set; otherwise it is the Markov pillow.

    Args:
        nodes: variable names, in the order they should be reported.
        directed: pairs ``(u, v)`` for ``u -> v``.
        bidirected: pairs ``(u, v)`` for ``u <-> v``.

    Raises:
        ValueError: duplicate names, unknown endpoints, self loops, or a directed cycle
            (the message names the cycle).

    Example:
        >>> g = CausalGraph(["a", "b", "c"], directed=[("a", "b"), ("b", "c")],
        ...                 bidirected=[("a", "c")])
        >>> g.topological_order()
        ('a', 'b', 'c')
        >>> g.markov_pillow("c")
        ('a', 'b')
    """

    def __init__(
        self,
        nodes: Iterable[Hashable],
        directed: Iterable[Sequence[Hashable]] = (),
        bidirected: Iterable[Sequence[Hashable]] = (),
    ):
        nodes = tuple(nodes)
        seen: set = set()
        dupes = sorted({str(v) for v in nodes if v in seen or seen.add(v)})
        if dupes:
            raise ValueError(f"duplicate node names in graph: {dupes}; every variable needs a unique name")
        directed = _pairs(directed, "directed")
        bidirected = _pairs(bidirected, "bidirected")
        unknown = sorted({str(x) for e in directed + bidirected for x in e if x not in seen})
        if unknown:
            raise ValueError(f"edges mention nodes that are not in the graph: {unknown}; add them to 'nodes'")
        loops = sorted({str(u) for u, v in directed + bidirected if u == v})
        if loops:
            raise ValueError(f"self loops are not allowed (on {loops}); remove the edge from a node to itself")
        dag = nx.DiGraph()
        dag.add_nodes_from(nodes)
        dag.add_edges_from(directed)
        path = cycle_path(dag)
        if path is not None:
            raise ValueError(f"the directed edges form a cycle: {path}; a causal graph must be acyclic")
        self._nodes = nodes
        self._dag = dag
        self._directed = tuple(dict.fromkeys(directed))
        bi = {}
        for u, v in bidirected:
            key = frozenset((u, v))
            bi.setdefault(key, (u, v))
        self._bidirected = tuple(bi.values())
        self._confounded = nx.Graph()
        self._confounded.add_nodes_from(nodes)
        self._confounded.add_edges_from(self._bidirected)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, bidirected: Iterable[Sequence[Hashable]] = ()) -> "CausalGraph":
        """Build from a networkx DiGraph (its edges are the directed edges)."""
        if not isinstance(graph, nx.DiGraph):
            raise TypeError(f"expected a networkx.DiGraph, got {type(graph).__name__}")
        return cls(list(graph.nodes), list(graph.edges), bidirected)

    @classmethod
    def from_edges(
        cls,
        directed: Iterable[Sequence[Hashable]],
        bidirected: Iterable[Sequence[Hashable]] = (),
        nodes: Iterable[Hashable] | None = None,
    ) -> "CausalGraph":
        """Build from edge lists; nodes default to the edge endpoints in order of appearance."""
        directed = _pairs(directed, "directed")
        bidirected = _pairs(bidirected, "bidirected")
        if nodes is None:
            nodes = list(dict.fromkeys(x for e in directed + bidirected for x in e))
        return cls(nodes, directed, bidirected)

    @classmethod
    def from_adjacency(cls, adjacency: pd.DataFrame) -> "CausalGraph":
        """Build from a labelled adjacency matrix: a non-zero entry at row u, column v means u -> v.

        A pair of non-zero entries ``A[u, v]`` and ``A[v, u]`` is read as a cycle, not as a
        bidirected edge; give bidirected edges explicitly.
        """
        if list(adjacency.index) != list(adjacency.columns):
            raise ValueError(
                "adjacency DataFrame must have the same labels, in the same order, on rows and columns; "
                f"rows {list(adjacency.index)} vs columns {list(adjacency.columns)}"
            )
        values = adjacency.to_numpy()
        if not np.issubdtype(values.dtype, np.number) and values.dtype != bool:
            raise ValueError("adjacency DataFrame must be numeric or boolean")
        nodes = list(adjacency.columns)
        rows, cols = np.nonzero(values)
        return cls(nodes, [(nodes[i], nodes[j]) for i, j in zip(rows, cols)])

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> "CausalGraph":
        """Build from ``{"nodes": [...], "directed": [[u, v], ...], "bidirected": [[u, v], ...]}``."""
        if not isinstance(spec, dict):
            raise ValueError("a graph specification must be a JSON object with keys 'nodes', 'directed', 'bidirected'")
        unknown = sorted(set(spec) - {"nodes", "directed", "bidirected"})
        if unknown:
            raise ValueError(f"unknown keys in graph specification: {unknown}; expected 'nodes', 'directed', 'bidirected'")
        directed = spec.get("directed", [])
        bidirected = spec.get("bidirected", [])
        for key, value in (("nodes", spec.get("nodes", [])), ("directed", directed), ("bidirected", bidirected)):
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"graph key {key!r} must be a list; got {json.dumps(value, default=str)}")
        if "nodes" in spec:
            return cls(spec["nodes"], directed, bidirected)
        return cls.from_edges(directed, bidirected)

    @classmethod
    def from_json(cls, source: Union[str, os.PathLike]) -> "CausalGraph":
        """Read a graph from a JSON file (or a JSON string starting with ``{``)."""
        text = str(source)
        if text.lstrip().startswith("{"):
            return cls.from_dict(json.loads(text))
        try:
            with open(source, encoding="utf-8") as f:
                spec = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError(f"graph file not found: {text}") from None
        except IsADirectoryError:
            raise ValueError(f"graph path {text} is a folder; give the graph's .json file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"graph file {text} is not valid JSON: {e}") from None
        return cls.from_dict(spec)

    def to_dict(self) -> dict[str, list]:
        """The JSON-ready specification of this graph."""
        return {
            "nodes": list(self._nodes),
            "directed": [list(e) for e in self._directed],
            "bidirected": [list(e) for e in self._bidirected],
        }

    def to_json(self, path: Union[str, os.PathLike, None] = None) -> str:
        """Serialise to JSON; also write it to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, default=str)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    def to_networkx(self) -> nx.DiGraph:
        """A copy of the directed part as a networkx DiGraph."""
        return self._dag.copy()

    # ------------------------------------------------------------------ structure
    @property
    def nodes(self) -> tuple:
        return self._nodes

    @property
    def directed(self) -> tuple:
        return self._directed

    @property
    def bidirected(self) -> tuple:
        return self._bidirected

    @property
    def is_dag(self) -> bool:
        """True when there is no bidirected edge."""
        return not self._bidirected

    def parents(self, node: Hashable) -> tuple:
        """Directed parents of ``node``, in node order."""
        self._check_node(node)
        pa = set(self._dag.predecessors(node))
        return tuple(v for v in self._nodes if v in pa)

    def topological_order(self) -> tuple:
        """A topological order of the directed part; ties broken by node order."""
        rank = {v: i for i, v in enumerate(self._nodes)}
        return tuple(nx.lexicographical_topological_sort(self._dag, key=rank.__getitem__))

    def markov_pillow(self, node: Hashable, order: Sequence[Hashable] | None = None) -> tuple:
        """The conditioning set of ``node`` under a topological ``order``.

        It is the district of ``node`` among ``node`` and its predecessors (connected by
        bidirected edges), plus the parents of that district, minus ``node``. In a DAG it is
        the parent set.
        """
        self._check_node(node)
        order = self._check_order(order)
        position = order.index(node)
        allowed = set(order[: position + 1])
        district = nx.node_connected_component(self._confounded.subgraph(allowed), node)
        pillow = set(district)
        for member in district:
            pillow.update(self._dag.predecessors(member))
        pillow.discard(node)
        return tuple(v for v in self._nodes if v in pillow)

    def markov_pillows(self, order: Sequence[Hashable] | None = None) -> dict:
        """``{node: markov_pillow(node)}`` for every node, under one topological order."""
        order = self._check_order(order)
        return {v: self.markov_pillow(v, order) for v in order}

    def check_columns(self, columns: Iterable[Hashable]) -> None:
        """Raise a clear error unless the data columns are exactly the graph's nodes."""
        columns = list(columns)
        seen: set = set()
        dupes = sorted({str(c) for c in columns if c in seen or seen.add(c)})
        if dupes:
            raise ValueError(f"duplicate column names in data: {dupes}; rename them")
        missing = [str(v) for v in self._nodes if v not in seen]
        extra = [str(c) for c in columns if c not in set(self._nodes)]
        problems = []
        if missing:
            problems.append(f"graph nodes missing from the data: {missing}")
        if extra:
            problems.append(f"data columns missing from the graph: {extra}")
        if problems:
            raise ValueError(
                "; ".join(problems) + ". Add the nodes to the graph, drop the columns, or rename them so they match"
            )

    def _check_node(self, node: Hashable) -> None:
        if node not in self._dag:
            raise KeyError(f"node {node!r} is not in the graph; nodes are {list(self._nodes)}")

    def _check_order(self, order: Sequence[Hashable] | None) -> tuple:
        if order is None:
            return self.topological_order()
        order = tuple(order)
        if sorted(map(str, order)) != sorted(map(str, self._nodes)) or len(set(order)) != len(self._nodes):
            raise ValueError(f"order must list every node exactly once; got {list(order)}")
        position = {v: i for i, v in enumerate(order)}
        bad = [(u, v) for u, v in self._directed if position[u] > position[v]]
        if bad:
            raise ValueError(f"order is not topological: edges {bad} point backwards")
        return order

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CausalGraph):
            return NotImplemented
        return (
            set(self._nodes) == set(other._nodes)
            and set(self._directed) == set(other._directed)
            and {frozenset(e) for e in self._bidirected} == {frozenset(e) for e in other._bidirected}
        )

    def __hash__(self) -> int:
        return hash((frozenset(self._nodes), frozenset(self._directed), frozenset(map(frozenset, self._bidirected))))

    def __repr__(self) -> str:
        return (
            f"CausalGraph(nodes={len(self._nodes)}, directed={len(self._directed)}, "
            f"bidirected={len(self._bidirected)})"
        )


GraphLike = Union[CausalGraph, nx.DiGraph, str, os.PathLike, dict]


def as_graph(graph: GraphLike) -> CausalGraph:
    """Coerce a CausalGraph, a networkx DiGraph, a JSON path or a JSON-style dict to a CausalGraph.

    Example:
        >>> import networkx as nx
        >>> as_graph(nx.DiGraph([("x", "y")])).nodes
        ('x', 'y')
    """
    if isinstance(graph, CausalGraph):
        return graph
    if isinstance(graph, nx.DiGraph):
        return CausalGraph.from_networkx(graph)
    if isinstance(graph, nx.Graph):
        raise TypeError("an undirected networkx.Graph cannot be a causal graph; use a networkx.DiGraph")
    if isinstance(graph, dict):
        return CausalGraph.from_dict(graph)
    if isinstance(graph, (str, os.PathLike)):
        return CausalGraph.from_json(graph)
    raise TypeError(
        f"cannot use a {type(graph).__name__} as a causal graph; pass a CausalGraph, a networkx.DiGraph, "
        "a JSON file path or a dict"
    )
