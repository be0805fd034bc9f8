"""Turn a matrix of edge strengths into a DAG that honours hard knowledge."""

from __future__ import annotations

import networkx as nx
import numpy as np

__all__ = ["greedy_dag"]


def greedy_dag(
    strength: np.ndarray,
    *,
    threshold: float,
    allowed: np.ndarray | None = None,
    required: np.ndarray | None = None,
) -> np.ndarray:
    """Keep the strongest edges that do not close a cycle.

    Required edges go in first (they are acyclic by construction of :class:`Knowledge`); then
    every allowed edge with ``|strength| > threshold``, strongest first, is added unless it
    would close a directed cycle. A fitted continuous model is close to acyclic, so this only
    drops the weak edge of a near-cycle; unlike raising the threshold until the graph is a DAG,
    it never removes strong edges elsewhere.

    Args:
        strength: ``(d, d)``; entry ``[i, j]`` scores ``i -> j``.
        threshold: minimum absolute strength of a data-driven edge.
        allowed: ``(d, d)`` bool; False entries never appear.
        required: ``(d, d)`` bool; True entries always appear.

    Returns:
        ``(d, d)`` bool adjacency of a DAG.

    Example:
        >>> s = np.array([[0, .9, 0], [0, 0, .8], [.5, 0, 0]])
        >>> greedy_dag(s, threshold=0.3).astype(int).tolist()
        [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    """
    strength = np.abs(np.asarray(strength, dtype=np.float64))
    d = strength.shape[0]
    allowed = np.ones((d, d), bool) if allowed is None else np.asarray(allowed, bool)
    required = np.zeros((d, d), bool) if required is None else np.asarray(required, bool)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(d))
    for i, j in zip(*np.nonzero(required)):
        graph.add_edge(int(i), int(j))
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError("required edges form a cycle")
    candidates = [
        (strength[i, j], int(i), int(j))
        for i, j in zip(*np.nonzero((strength > threshold) & allowed & ~required))
        if i != j
    ]
    for _, i, j in sorted(candidates, key=lambda t: (-t[0], t[1], t[2])):
        # i -> j closes a cycle iff j already reaches i.
        if not nx.has_path(graph, j, i):
            graph.add_edge(i, j)
    adjacency = np.zeros((d, d), bool)
    for i, j in graph.edges:
        adjacency[i, j] = True
    return adjacency
