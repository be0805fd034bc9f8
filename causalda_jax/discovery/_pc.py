"""The PC algorithm (stable skeleton, Meek orientation) with background knowledge."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._ci_tests import CITest

__all__ = ["PCOutput", "orient_by_meek_rules", "pc"]


@dataclass(frozen=True)
class PCOutput:
    """Result of :func:`pc` over column indices.

    Attributes:
        dag: ``(d, d)`` bool adjacency of a DAG in the (knowledge-restricted) equivalence class.
        directed: ``(d, d)`` bool, edges the algorithm oriented (knowledge, v-structures, Meek).
        undirected: ``(d, d)`` symmetric bool, edges it left unoriented.
        max_pvalue: ``(d, d)`` symmetric, the largest CI p-value seen for each pair (1 for
            pairs never tested because knowledge rules out both directions, 0 for kept
            pairs with no test, e.g. required edges).
    """

    dag: np.ndarray
    directed: np.ndarray
    undirected: np.ndarray
    max_pvalue: np.ndarray


def _skeleton(d, test, alpha, allowed, required, max_cond):
    adj = ~np.eye(d, dtype=bool)
    pmax = np.zeros((d, d))
    # Knowledge that rules out both directions removes the pair without a test; required
    # pairs are never tested away.
    never = ~allowed & ~allowed.T
    adj &= ~never
    pmax[never] = 1.0
    fixed = required | required.T
    sepsets: dict = {}
    level = 0
    while True:
        # Stable PC: neighbourhoods frozen per level, so the result is order independent.
        neighbours = [set(np.nonzero(adj[i])[0]) for i in range(d)]
        if max_cond is not None and level > max_cond:
            break
        if all(len(neighbours[i]) - 1 < level for i in range(d)):
            break
        for i in range(d):
            for j in sorted(neighbours[i]):
                if not adj[i, j] or fixed[i, j]:
                    continue
                others = sorted(neighbours[i] - {j})
                if len(others) < level:
                    continue
                for cond in itertools.combinations(others, level):
                    p = test(i, j, cond)
                    pmax[i, j] = pmax[j, i] = max(pmax[i, j], p)
                    if p > alpha:
                        adj[i, j] = adj[j, i] = False
                        sepsets[frozenset((i, j))] = set(cond)
                        break
        level += 1
    return adj, pmax, sepsets


def orient_by_meek_rules(directed, undirected, adj, allowed):
    """Apply Meek rules R1-R3 until nothing changes, never orienting against ``allowed``."""
    d = adj.shape[0]

    def orient(a, b):
        if undirected[a, b] and allowed[a, b]:
            directed[a, b] = True
            undirected[a, b] = undirected[b, a] = False
            return True
        return False

    changed = True
    while changed:
        changed = False
        for a, b in zip(*np.nonzero(undirected)):
            if not undirected[a, b]:
                continue
            # R1: c -> a - b with c, b non-adjacent  =>  a -> b.
            if any(directed[c, a] and not adj[c, b] for c in range(d) if c != b):
                changed |= orient(a, b)
                continue
            # R2: a -> c -> b and a - b  =>  a -> b.
            if any(directed[a, c] and directed[c, b] for c in range(d)):
                changed |= orient(a, b)
                continue
            # R3: a - c -> b, a - e -> b, c and e non-adjacent  =>  a -> b.
            cs = [c for c in range(d) if undirected[a, c] and directed[c, b]]
            if any(not adj[c, e] for c, e in itertools.combinations(cs, 2)):
                changed |= orient(a, b)
    return directed, undirected


def _extend(directed, undirected, allowed):
    """Dor-Tarsi extension of a partially directed graph to a DAG; None if impossible."""
    d = directed.shape[0]
    dag = directed.copy()
    left_dir = directed.copy()
    left_und = undirected.copy()
    alive = np.ones(d, bool)
    while alive.any():
        chosen = None
        for x in np.nonzero(alive)[0]:
            if left_dir[x].any():
                continue  # x has an outgoing directed edge: not a sink
            und_nb = np.nonzero(left_und[x])[0]
            adjacent = set(np.nonzero(left_dir[:, x] | left_und[x])[0])
            if all(allowed[y, x] for y in und_nb) and all(
                all(left_dir[y, z] | left_dir[z, y] | left_und[y, z] for z in adjacent - {y}) for y in und_nb
            ):
                chosen = x
                break
        if chosen is None:
            return None
        for y in np.nonzero(left_und[chosen])[0]:
            dag[y, chosen] = True
        left_dir[:, chosen] = left_dir[chosen, :] = False
        left_und[:, chosen] = left_und[chosen, :] = False
        alive[chosen] = False
    return dag


def pc(
    d: int,
    test: CITest,
    *,
    alpha: float = 0.05,
    allowed: np.ndarray | None = None,
    required: np.ndarray | None = None,
    max_cond: int | None = None,
) -> PCOutput:
    """PC with background knowledge (Meek 1995): knowledge fixes orientations before the
    v-structures, and no rule orients an edge against it.

    Args:
        d: number of variables.
        test: ``test(x, y, z) -> p-value`` (see :func:`make_ci_test`).
        alpha: significance level; a pair is separated when some p-value exceeds it.
        allowed: ``(d, d)`` bool, False where ``i -> j`` is forbidden (both False: not adjacent).
        required: ``(d, d)`` bool, True where ``i -> j`` is required (never removed).
        max_cond: largest conditioning set size (None: no limit).

    Example:
        >>> from causalda_jax.discovery._ci_tests import make_ci_test
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=2000); c = rng.normal(size=2000); b = a + c + rng.normal(size=2000)
        >>> pc(3, make_ci_test(np.c_[a, b, c])).directed.astype(int).tolist()  # a -> b <- c
        [[0, 1, 0], [0, 0, 0], [0, 1, 0]]
    """
    allowed = np.ones((d, d), bool) if allowed is None else np.asarray(allowed, bool).copy()
    np.fill_diagonal(allowed, False)
    required = np.zeros((d, d), bool) if required is None else np.asarray(required, bool)
    adj, pmax, sepsets = _skeleton(d, test, alpha, allowed, required, max_cond)
    directed = np.zeros((d, d), bool)
    undirected = adj.copy()
    # Knowledge first: required edges, and pairs where only one direction is allowed.
    for i, j in zip(*np.nonzero(adj)):
        if required[i, j] or (allowed[i, j] and not allowed[j, i]):
            directed[i, j] = True
            undirected[i, j] = undirected[j, i] = False
    # V-structures i -> k <- j for non-adjacent i, j with k outside their separating set.
    for k in range(d):
        nb = np.nonzero(adj[k])[0]
        for i, j in itertools.combinations(nb, 2):
            if adj[i, j] or k in sepsets.get(frozenset((i, j)), set()):
                continue
            for a in (i, j):
                if undirected[a, k] and allowed[a, k]:
                    directed[a, k] = True
                    undirected[a, k] = undirected[k, a] = False
    directed, undirected = orient_by_meek_rules(directed, undirected, adj, allowed)
    dag = _extend(directed, undirected, allowed)
    if dag is None:
        # Conflicting v-structures (finite-sample errors) can leave no consistent extension;
        # fall back to the strongest-first acyclic projection.
        from ._acyclic import greedy_dag

        strength = np.where(directed, 2.0 - pmax, 0.0) + np.where(undirected, 1.0 - pmax, 0.0)
        dag = greedy_dag(strength, threshold=-1.0, allowed=allowed & (directed | undirected), required=required)
    return PCOutput(dag, directed, undirected, pmax)
