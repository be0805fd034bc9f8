"""The outcome of :func:`discover`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Union

import networkx as nx
import pandas as pd

from .._graph import CausalGraph
from ._knowledge import Knowledge
from ._report import DisagreementReport

__all__ = ["DiscoveryResult"]


@dataclass(frozen=True)
class DiscoveryResult:
    """A learned DAG with the evidence behind it.

    Attributes:
        graph: the DAG (networkx, named nodes); it holds every hard required edge and no hard
            forbidden or tier-violating edge.
        adjacency: labelled ``(d, d)`` DataFrame; entry ``[u, v]`` is the strength of ``u -> v``
            in ``graph`` (linear DAGMA: the weight; MLP: the first-layer norm; PC: the
            standardised regression weight), zero where there is no edge.
        report: :class:`DisagreementReport` comparing the data with the knowledge.
        data_graph: the DAG learned from the data alone, with the same method.
        knowledge: the knowledge used.
        method: ``"dagma"``, ``"dagma-mlp"`` or ``"pc"``.
    """

    graph: nx.DiGraph
    adjacency: pd.DataFrame
    report: DisagreementReport
    data_graph: nx.DiGraph
    knowledge: Knowledge
    method: str

    def to_causal_graph(self) -> CausalGraph:
        """The learned DAG as a :class:`CausalGraph` (what ``augment`` takes)."""
        return CausalGraph(list(self.graph.nodes), list(self.graph.edges))

    def to_json(self, path: Union[str, os.PathLike, None] = None) -> str:
        """The graph in the JSON format ``causalda augment`` reads; written to ``path`` when given."""
        return self.to_causal_graph().to_json(path)

    def __repr__(self) -> str:
        return (
            f"DiscoveryResult(method={self.method!r}, nodes={self.graph.number_of_nodes()}, "
            f"edges={self.graph.number_of_edges()}, conflicts={len(self.report.conflicts)})"
        )
