"""``discover``: learn a DAG from data and expert knowledge, and report where they disagree."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Union

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
    know = as_knowledge(knowledge)
    limits = _Constraints.from_knowledge(know, nodes)
    opts = _Options.resolve(
        method, threshold=threshold, lambda1=lambda1, n_steps=n_steps, lr=lr, hidden=hidden, alpha=alpha,
        ci_test=ci_test, max_cond=max_cond, n_bootstrap=n_bootstrap, standardize=standardize, seed=seed,
    )
    x = _prepared(x, opts)
    fits = _fit_with_and_without(x, limits, opts, with_knowledge=not know.is_empty)
    weights, data_strength = _edge_strengths(x, fits, opts.method)
    report = build_report(
        nodes=nodes, knowledge=know, test=make_ci_test(x, opts.ci_test, seed=opts.seed), graph=fits.graph.dag,
        data_graph=fits.data.dag, data_strength=data_strength, boot_graphs=fits.graph.boot_dags,
        boot_data_graphs=fits.data.boot_dags, allowed=limits.allowed, required=limits.required, alpha=opts.alpha,
    )
    adjacency = pd.DataFrame(np.asarray(weights, np.float64), index=pd.Index(nodes, dtype=object),
                             columns=pd.Index(nodes, dtype=object))
    return DiscoveryResult(_to_nx(fits.graph.dag, nodes), adjacency, report, _to_nx(fits.data.dag, nodes), know, method)


@dataclass(frozen=True)
class _Options:
    """The learner's settings, with the per-method defaults filled in."""

    method: str
    threshold: float
    lambda1: float
    n_steps: int
    lr: float
    hidden: int
    alpha: float
    ci_test: str
    max_cond: int | None
    n_bootstrap: int
    standardize: bool
    seed: int

    @classmethod
    def resolve(cls, method: str, *, threshold, lambda1, n_steps, lr, hidden, alpha, ci_test, max_cond,
                n_bootstrap, standardize, seed) -> "_Options":
        n_boot = _DEFAULT_BOOTSTRAP[method] if n_bootstrap is None else int(n_bootstrap)
        if n_boot < 0:
            raise ValueError(f"n_bootstrap must be >= 0; got {n_boot}")
        return cls(
            method=method,
            threshold=_DEFAULT_THRESHOLD.get(method, 0.0) if threshold is None else float(threshold),
            lambda1=lambda1,
            n_steps=_DEFAULT_STEPS[method] if n_steps is None else int(n_steps),
            lr=_DEFAULT_LR[method] if lr is None else float(lr),
            hidden=hidden,
            alpha=alpha,
            ci_test=ci_test or ("rcit" if method == "dagma-mlp" else "fisherz"),
            max_cond=max_cond,
            n_bootstrap=n_boot,
            # Sigmoid units need inputs on a common scale; the linear score uses the relative scales.
            standardize=method == "dagma-mlp" if standardize is None else standardize,
            seed=seed,
        )


class _Constraints(NamedTuple):
    """``(d, d)`` masks: what the knowledge allows, requires and how it scales the L1 penalty; ``free``
    (every edge but self-loops) stands in for ``allowed`` in data-only fits."""

    allowed: np.ndarray
    required: np.ndarray
    penalty: np.ndarray
    free: np.ndarray

    @classmethod
    def from_knowledge(cls, know: Knowledge, nodes: list) -> "_Constraints":
        masks = know.masks(nodes)
        free = ~np.eye(len(nodes), dtype=bool)
        return cls(masks["allowed"], masks["required"], masks["penalty"], free)

    def allowed_in(self, problem: "_Problem") -> np.ndarray:
        return self.allowed if problem.constrained else self.free

    def required_in(self, problem: "_Problem") -> np.ndarray | None:
        return self.required if problem.constrained else None

    def penalty_in(self, problem: "_Problem") -> np.ndarray:
        d = self.free.shape[0]
        return self.penalty if problem.constrained else np.ones((d, d))


class _Problem(NamedTuple):
    """One fit: which sample (0 the full data, then the resamples) and whether the knowledge applies."""

    sample: int
    constrained: bool


class _Fit(NamedTuple):
    """One learner setting (with or without the knowledge) on the full data and on every resample."""

    strength: np.ndarray  # (d, d) on the full data: edge strengths (DAGMA) or the adjacency (PC)
    dag: np.ndarray  # (d, d) bool on the full data
    boot_dags: np.ndarray  # (n_bootstrap, d, d) bool


class _Fits(NamedTuple):
    data: _Fit  # the data alone
    graph: _Fit  # with the knowledge (the data-only fit when there is no knowledge)


def _prepared(x: np.ndarray, opts: _Options) -> np.ndarray:
    x = x - x.mean(axis=0)
    return x / x.std(axis=0) if opts.standardize else x


def _fit_with_and_without(x: np.ndarray, limits: _Constraints, opts: _Options, *, with_knowledge: bool) -> _Fits:
    """Data-only and knowledge-constrained fits on the data and ``n_bootstrap`` resamples, in one batch."""
    rng = np.random.default_rng(opts.seed)
    samples = [x] + [x[rng.integers(0, x.shape[0], x.shape[0])] for _ in range(opts.n_bootstrap)]
    data_problems = [_Problem(s, False) for s in range(len(samples))]
    knowledge_problems = [_Problem(s, True) for s in range(len(samples))] if with_knowledge else []
    strengths = _FITTERS[opts.method](samples, data_problems + knowledge_problems, limits, opts)
    data = _collect(strengths[: len(samples)], data_problems, limits, opts)
    if not with_knowledge:
        return _Fits(data, data)
    return _Fits(data, _collect(strengths[len(samples) :], knowledge_problems, limits, opts))


def _collect(strengths: list, problems: list, limits: _Constraints, opts: _Options) -> _Fit:
    """The DAG of every fit of one setting, the full data's first."""
    d = limits.free.shape[0]
    dags = [_as_dag(s, p, limits, opts) for s, p in zip(strengths, problems)]
    boot = np.asarray(dags[1:], bool).reshape(opts.n_bootstrap, d, d)
    return _Fit(strengths[0], dags[0], boot)


def _as_dag(strength: np.ndarray, problem: _Problem, limits: _Constraints, opts: _Options) -> np.ndarray:
    if opts.method == "pc":
        return strength.astype(bool)
    return greedy_dag(strength, threshold=opts.threshold, allowed=limits.allowed_in(problem),
                      required=limits.required_in(problem))


def _edge_strengths(x: np.ndarray, fits: _Fits, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Weights of the graph's edges, and the data-only strength of every edge (for the report)."""
    if method == "pc":
        return ols_weights(x, fits.graph.dag), added_edge_weights(x, fits.data.dag)
    return np.where(fits.graph.dag, fits.graph.strength, 0.0), np.asarray(fits.data.strength)


def _to_nx(adj: np.ndarray, nodes: list) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from((nodes[i], nodes[j]) for i, j in zip(*np.nonzero(adj)))
    return g


def _problem_masks(problems: list, limits: _Constraints) -> tuple[jnp.ndarray, jnp.ndarray]:
    allowed = np.stack([limits.allowed_in(p) for p in problems]).astype(np.float32)
    penalty = np.stack([limits.penalty_in(p) for p in problems]).astype(np.float32)
    return jnp.asarray(allowed), jnp.asarray(penalty)


def _fit_dagma(samples: list, problems: list, limits: _Constraints, opts: _Options) -> list[np.ndarray]:
    """Linear DAGMA edge strengths, one per problem, from one vmapped call on the covariances."""
    # Centre each resample: its mean is not exactly zero.
    covs = np.stack([np.cov(samples[p.sample], rowvar=False, bias=True) for p in problems]).astype(np.float32)
    config = DagmaConfig.make(lambda1=opts.lambda1, lr=opts.lr)
    out = linear_fitter(opts.n_steps, batched=True)(jnp.asarray(covs), *_problem_masks(problems, limits), config)
    return list(np.asarray(out, np.float64))


def _fit_dagma_mlp(samples: list, problems: list, limits: _Constraints, opts: _Options) -> list[np.ndarray]:
    """MLP DAGMA first-layer strengths, one per problem, from one vmapped call."""
    xs = np.stack([samples[p.sample] - samples[p.sample].mean(axis=0) for p in problems]).astype(np.float32)
    keys = jax.random.split(jax.random.key(opts.seed), len(problems))
    config = DagmaConfig.make(lambda1=opts.lambda1, lr=opts.lr)
    fitter = mlp_fitter(opts.n_steps, opts.hidden, batched=True)
    out = fitter(jnp.asarray(xs), *_problem_masks(problems, limits), config, keys)
    return list(np.asarray(out, np.float64))


def _fit_pc(samples: list, problems: list, limits: _Constraints, opts: _Options) -> list[np.ndarray]:
    """PC adjacencies (as float), one per problem."""
    d = limits.free.shape[0]
    return [
        pc(d, make_ci_test(samples[p.sample], opts.ci_test, seed=opts.seed), alpha=opts.alpha,
           allowed=limits.allowed_in(p), required=limits.required_in(p), max_cond=opts.max_cond).dag.astype(np.float64)
        for p in problems
    ]


_FITTERS = {"dagma": _fit_dagma, "dagma-mlp": _fit_dagma_mlp, "pc": _fit_pc}
