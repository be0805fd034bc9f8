"""Random Erdős–Rényi DAGs with a requested expected degree."""

from __future__ import annotations

import networkx as nx
import numpy as np

__all__ = ["random_dag"]


def random_dag(n_nodes: int, expected_degree: float = 3.0, *, seed: int | np.random.Generator = 0) -> nx.DiGraph:
    """Draw an Erdős–Rényi DAG whose mean degree (in + out) is ``expected_degree``.

    A random causal order is drawn, then each of the ``n_nodes * (n_nodes - 1) / 2``
    forward pairs becomes an edge independently with probability
    ``p = expected_degree / (n_nodes - 1)``. The expected number of edges is then
    ``expected_degree * n_nodes / 2``, so the expected mean degree ``2 * edges / nodes`` is
    exactly ``expected_degree``. (The Causal Discovery Toolbox's ``erdos`` mode uses
    ``p = 2 * degree / (n - 1)`` on the same pairs and so doubles the degree, its issue 168.)
    Nodes are named ``V0 ... V{n-1}``; the causal order is a random permutation of them so
    that column order reveals nothing.

    Args:
        n_nodes: number of variables, at least 1.
        expected_degree: requested mean degree, in ``[0, n_nodes - 1]``.
        seed: an int seed or a ``numpy.random.Generator``.

    Returns:
        A ``networkx.DiGraph`` with nodes inserted in name order.

    Example:
        >>> g = random_dag(5, 2.0, seed=1)
        >>> sorted(g.nodes)
        ['V0', 'V1', 'V2', 'V3', 'V4']
        >>> import networkx as nx; nx.is_directed_acyclic_graph(g)
        True
    """
    if int(n_nodes) != n_nodes or n_nodes < 1:
        raise ValueError(f"n_nodes must be a positive integer; got {n_nodes!r}")
    n_nodes = int(n_nodes)
    max_degree = n_nodes - 1
    if not 0 <= expected_degree <= max_degree:
        raise ValueError(
            f"expected_degree must lie in [0, n_nodes - 1] = [0, {max_degree}] for {n_nodes} nodes; "
            f"got {expected_degree!r}. Ask for fewer edges or more nodes."
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    names = [f"V{i}" for i in range(n_nodes)]
    order = rng.permutation(n_nodes)
    p = expected_degree / max_degree if max_degree > 0 else 0.0
    upper = np.triu(rng.random((n_nodes, n_nodes)) < p, k=1)
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for i, j in zip(*np.nonzero(upper)):
        graph.add_edge(names[order[i]], names[order[j]])
    return graph
