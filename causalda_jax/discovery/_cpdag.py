"""Which edges of a DAG the data could orient: the directed edges of its CPDAG."""

from __future__ import annotations

import itertools

import numpy as np

from ._pc import orient_by_meek_rules

__all__ = ["compelled_edges"]


def compelled_edges(dag: np.ndarray) -> np.ndarray:
    """Edges of ``dag`` that are directed in every Markov-equivalent DAG.

    Conditional independences identify a DAG only up to its equivalence class; an edge is
    *compelled* when every DAG in the class orients it the same way (Chickering 1995). They
    are the v-structure edges plus what Meek's rules R1-R3 propagate from them. A data-driven
    orientation that disagrees with an expert is evidence only when it is compelled.

    Example:
        >>> a = np.zeros((3, 3), bool); a[0, 1] = a[2, 1] = True   # 0 -> 1 <- 2
        >>> compelled_edges(a).astype(int).tolist()
        [[0, 1, 0], [0, 0, 0], [0, 1, 0]]
        >>> b = np.zeros((3, 3), bool); b[0, 1] = b[1, 2] = True   # chain: nothing compelled
        >>> int(compelled_edges(b).sum())
        0
    """
    dag = np.asarray(dag, bool)
    d = dag.shape[0]
    adj = dag | dag.T
    directed = np.zeros((d, d), bool)
    for k in range(d):
        parents = np.nonzero(dag[:, k])[0]
        for i, j in itertools.combinations(parents, 2):
            if not adj[i, j]:
                directed[i, k] = directed[j, k] = True
    undirected = adj & ~directed & ~directed.T
    directed, _ = orient_by_meek_rules(directed, undirected, adj, allowed=dag)
    return directed & dag
