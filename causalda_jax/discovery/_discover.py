"""``discover``: learn a DAG from data and expert knowledge, and report where they disagree."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, Union

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pandas as pd

from ._acyclic import greedy_dag
from ._ci_tests import make_ci_test
from ._dagma import DagmaConfig, linear_fitter, mlp_fitter
from ._edge_stats import added_edge_weights, ols_weights
from ._knowledge import Knowledge
from ._pc import pc
from ._report import build_report
from ._result import DiscoveryResult

__all__ = ["discover", "as_knowledge"]

Method = Literal["dagma", "dagma-mlp", "pc"]
_DEFAULT_THRESHOLD = {"dagma": 0.3, "dagma-mlp": 0.3}
_DEFAULT_BOOTSTRAP = {"dagma": 20, "dagma-mlp": 3, "pc": 20}
_DEFAULT_STEPS = {"dagma": 1500, "dagma-mlp": 1000, "pc": 0}
_DEFAULT_LR = {"dagma": 0.02, "dagma-mlp": 0.005, "pc": 0.0}


def as_knowledge(knowledge: Union[Knowledge, Mapping[str, Any], str, os.PathLike, None]) -> Knowledge:
    """Coerce None, a :class:`Knowledge`, a mapping or a JSON/YAML path to :class:`Knowledge`."""
    if knowledge is None:
        return Knowledge()
    if isinstance(knowledge, Knowledge):
        return knowledge
    if isinstance(knowledge, Mapping):
        return Knowledge.from_dict(knowledge)
    if isinstance(knowledge, (str, os.PathLike)):
        return Knowledge.load(knowledge)
    raise TypeError(f"cannot use a {type(knowledge).__name__} as knowledge; pass a Knowledge, a dict or a file path")


def _numeric_matrix(data: pd.DataFrame) -> np.ndarray:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame with named columns; got {type(data).__name__}")
    cols = list(data.columns)
    dupes = sorted({str(c) for c in cols if cols.count(c) > 1})
    if dupes:
        raise ValueError(f"duplicate column names in data: {dupes}; rename them")
    bad = [str(c) for c in cols if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))]
    if bad:
        raise ValueError(f"discover needs numeric columns; {bad} are not numeric. Encode or drop them")
    values = data.to_numpy(dtype=np.float64, copy=True)
    missing = [str(c) for c, m in zip(cols, np.isnan(values).any(axis=0)) if m]
    if missing:
        raise ValueError(f"columns {missing} hold missing values; impute or drop those rows first")
    if values.shape[1] < 2:
        raise ValueError("discover needs at least two columns")
    if values.shape[0] < 10:
        raise ValueError(f"discover needs at least 10 rows; got {values.shape[0]}")
    constant = [str(c) for c, s in zip(cols, values.std(axis=0)) if s == 0]
    if constant:
        raise ValueError(f"columns {constant} are constant and carry no causal information; drop them")
    return values


def discover(
    data: pd.DataFrame,
    knowledge: Union[Knowledge, Mapping[str, Any], str, os.PathLike, None] = None,
    *,
    method: Method = "dagma",
    threshold: float | None = None,
    lambda1: float = 0.02,
    n_steps: int | None = None,
    lr: float | None = None,
    hidden: int = 10,
    alpha: float = 0.05,
    ci_test: str | None = None,
    max_cond: int | None = None,
    n_bootstrap: int | None = None,
    standardize: bool | None = None,
    seed: int = 0,
) -> DiscoveryResult:
    """Learn a causal DAG from ``data`` and expert ``knowledge``, and report where they disagree.

    The learner runs twice, with and without the knowledge (and on ``n_bootstrap`` resamples
    of each; for DAGMA all fits are one vmapped, jitted call). The constrained fit gives the
    graph; the data-only fits give the evidence in the report.

    Args:
        data: numeric DataFrame, one column per variable.
        knowledge: :class:`Knowledge`, its dict form, a JSON/YAML path, or None.
        method: ``"dagma"`` (linear DAGMA), ``"dagma-mlp"`` (nonlinear DAGMA) or ``"pc"`` (PC
            with background knowledge).
        threshold: minimum edge strength kept (DAGMA; default 0.3).
        lambda1: L1 weight (DAGMA).
        n_steps: Adam steps per central-path stage (DAGMA, 4 stages; default 1500 linear, 1000 MLP).
        lr: Adam learning rate (DAGMA; default 0.02 linear, 0.005 MLP, whose loss surface is rougher).
        hidden: hidden units per variable (``dagma-mlp``).
        alpha: significance level of the CI tests (PC skeleton and report verdicts).
        ci_test: ``"fisherz"`` or ``"rcit"`` (nonlinear); default ``"rcit"`` for ``dagma-mlp``,
            ``"fisherz"`` otherwise.
        max_cond: largest conditioning set in PC.
        n_bootstrap: bootstrap resamples for edge stability (default 20; 3 for ``dagma-mlp``).
        standardize: scale columns to unit variance before fitting (default: on for
            ``dagma-mlp``, whose sigmoid units need inputs on a common scale; off otherwise, since
            the linear least-squares score uses the relative scales when units are meaningful).
        seed: seeds the bootstrap and the MLP initialisation.

    Returns:
        :class:`DiscoveryResult`.

    Raises:
        ValueError: non-numeric, constant or missing data; knowledge naming unknown columns or
            contradicting itself; unknown method.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=500); b = 2 * a + rng.normal(size=500); c = b - a + rng.normal(size=500)
        >>> df = pd.DataFrame({"a": a, "b": b, "c": c})
        >>> res = discover(df, Knowledge(tiers=[["a"], ["b"], ["c"]]), n_bootstrap=0)
        >>> sorted(res.graph.edges)
        [('a', 'b'), ('a', 'c'), ('b', 'c')]
    """
    if method not in ("dagma", "dagma-mlp", "pc"):
        raise ValueError(f"unknown method {method!r}; use 'dagma', 'dagma-mlp' or 'pc'")
    x = _numeric_matrix(data)
    nodes = list(data.columns)
    d = len(nodes)
    know = as_knowledge(knowledge)
    masks = know.masks(nodes)
    allowed, required, penalty = masks["allowed"], masks["required"], masks["penalty"]
    free = ~np.eye(d, dtype=bool)
    n_boot = _DEFAULT_BOOTSTRAP[method] if n_bootstrap is None else int(n_bootstrap)
    if n_boot < 0:
        raise ValueError(f"n_bootstrap must be >= 0; got {n_boot}")
    ci_kind = ci_test or ("rcit" if method == "dagma-mlp" else "fisherz")
    n_steps = _DEFAULT_STEPS[method] if n_steps is None else int(n_steps)
    lr = _DEFAULT_LR[method] if lr is None else float(lr)
    threshold = _DEFAULT_THRESHOLD.get(method, 0.0) if threshold is None else float(threshold)

    x = x - x.mean(axis=0)
    if method == "dagma-mlp" if standardize is None else standardize:
        x = x / x.std(axis=0)
    rng = np.random.default_rng(seed)
    samples = [x] + [x[rng.integers(0, x.shape[0], x.shape[0])] for _ in range(n_boot)]
    with_knowledge = not know.is_empty
    # Problem list: (sample, constrained?) for the full data then each resample.
    problems = [(s, False) for s in range(len(samples))]
    if with_knowledge:
        problems += [(s, True) for s in range(len(samples))]

    strengths = _fit_all(method, samples, problems, allowed, penalty, free,
                         lambda1=lambda1, lr=lr, n_steps=n_steps, hidden=hidden, alpha=alpha,
                         ci_kind=ci_kind, required=required, max_cond=max_cond, seed=seed)
    dags = []
    for (s, constrained), strength in zip(problems, strengths):
        if method == "pc":
            dag = strength.astype(bool)
        else:
            dag = greedy_dag(strength, threshold=threshold,
                             allowed=allowed if constrained else free,
                             required=required if constrained else None)
        dags.append(dag)
    n_samples = len(samples)
    data_dags = dags[:n_samples]
    hyb_dags = dags[n_samples:] if with_knowledge else data_dags
    hyb_strength = strengths[n_samples] if with_knowledge else strengths[0]
    graph_adj, data_adj = hyb_dags[0], data_dags[0]

    if method == "pc":
        weights = ols_weights(x, graph_adj)
        data_strength = added_edge_weights(x, data_adj)
    else:
        weights = np.where(graph_adj, hyb_strength, 0.0)
        data_strength = np.asarray(strengths[0])

    report = build_report(
        nodes=nodes, knowledge=know, test=make_ci_test(x, ci_kind, seed=seed), graph=graph_adj,
        data_graph=data_adj, data_strength=data_strength,
        boot_graphs=np.asarray(hyb_dags[1:], bool).reshape(n_boot, d, d),
        boot_data_graphs=np.asarray(data_dags[1:], bool).reshape(n_boot, d, d),
        allowed=allowed, required=required, alpha=alpha,
    )

    def to_nx(adj):
        g = nx.DiGraph()
        g.add_nodes_from(nodes)
        g.add_edges_from((nodes[i], nodes[j]) for i, j in zip(*np.nonzero(adj)))
        return g

    adjacency = pd.DataFrame(np.asarray(weights, np.float64), index=pd.Index(nodes, dtype=object),
                             columns=pd.Index(nodes, dtype=object))
    return DiscoveryResult(to_nx(graph_adj), adjacency, report, to_nx(data_adj), know, method)


def _fit_all(method, samples, problems, allowed, penalty, free, *, lambda1, lr, n_steps, hidden, alpha,
             ci_kind, required, max_cond, seed) -> list[np.ndarray]:
    """Edge strengths (DAGMA) or DAG adjacencies (PC), one per problem."""
    d = free.shape[0]
    masks_allowed = np.stack([allowed if c else free for _, c in problems]).astype(np.float32)
    masks_penalty = np.stack([penalty if c else np.ones((d, d)) for _, c in problems]).astype(np.float32)
    config = DagmaConfig.make(lambda1=lambda1, lr=lr)
    if method == "dagma":
        # Centre each resample: its mean is not exactly zero.
        covs = np.stack([np.cov(samples[s], rowvar=False, bias=True) for s, _ in problems]).astype(np.float32)
        out = linear_fitter(n_steps, batched=True)(jnp.asarray(covs), jnp.asarray(masks_allowed),
                                                   jnp.asarray(masks_penalty), config)
        return list(np.asarray(out, np.float64))
    if method == "dagma-mlp":
        xs = np.stack([samples[s] - samples[s].mean(axis=0) for s, _ in problems]).astype(np.float32)
        keys = jax.random.split(jax.random.key(seed), len(problems))
        out = mlp_fitter(n_steps, hidden, batched=True)(jnp.asarray(xs), jnp.asarray(masks_allowed),
                                                        jnp.asarray(masks_penalty), config, keys)
        return list(np.asarray(out, np.float64))
    out = []
    for s, constrained in problems:
        res = pc(d, make_ci_test(samples[s], ci_kind, seed=seed), alpha=alpha,
                 allowed=allowed if constrained else free,
                 required=required if constrained else None, max_cond=max_cond)
        out.append(res.dag.astype(np.float64))
    return out
