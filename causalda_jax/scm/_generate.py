"""Random structural causal models: a DAG, mechanisms, roots, noise and outliers."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from ._graphs import random_dag
from ._mechanisms import MECHANISMS
from ._roots import ROOTS

__all__ = ["random_scm"]

_NOISES = ("gaussian", "uniform")


def _standardise(column: np.ndarray) -> np.ndarray:
    centred = column - column.mean()
    std = centred.std()
    # A constant column stays at zero rather than becoming NaN.
    return centred / std if std > 0 else centred


def random_scm(
    n_nodes: int,
    n_samples: int,
    *,
    expected_degree: float = 3.0,
    mechanism: str = "nn",
    noise: str = "gaussian",
    noise_scale: float = 0.4,
    root: str = "gmm",
    outlier_fraction: float = 0.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, nx.DiGraph]:
    """Sample a data set from a random structural causal model.

    The family is that of the Causal Discovery Toolbox's ``AcyclicGraphGenerator``:

    1. Graph: :func:`random_dag`, an Erdős–Rényi DAG whose expected mean degree
       ``2 * edges / nodes`` equals ``expected_degree`` (the toolbox's ``erdos`` mode doubles it).
    2. Roots: ``root="gmm"`` draws a random 4-component Gaussian mixture per root, rows in
       random order (the toolbox groups them by component); ``"gaussian"`` draws N(0, 1).
    3. Other nodes, in causal order: ``child = f(parents, e)`` with ``f`` one of
       ``linear``, ``polynomial``, ``sigmoid_add``, ``gp_add`` (noise added) or
       ``sigmoid_mix``, ``gp_mix``, ``nn`` (noise as an extra input); see
       :mod:`causalda_jax.scm._mechanisms`. ``e = noise_scale * z`` with ``z`` standard
       normal (``noise="gaussian"``) or uniform on ``[-sqrt 3, sqrt 3]`` (unit variance).
    4. Each column is standardised as soon as it is generated, so children see parents on a
       common scale (as the toolbox does).
    5. Outliers: ``round(outlier_fraction * n_samples)`` rows, chosen at random, have every
       value replaced by a uniform draw between that column's min and max.
    6. Every column is standardised again (mean 0, standard deviation 1, ``ddof=0``).

    Everything derives from ``seed`` through one ``numpy`` Generator (graph, roots, noise,
    mechanism parameters including the ``nn`` weights, outliers).

    Args:
        n_nodes: number of variables, named ``V0 ... V{n_nodes - 1}``.
        n_samples: number of rows, at least 2.
        expected_degree: mean degree of the DAG, in ``[0, n_nodes - 1]``.
        mechanism: one of ``linear, polynomial, sigmoid_add, sigmoid_mix, gp_add, gp_mix, nn``.
        noise: ``"gaussian"`` or ``"uniform"``.
        noise_scale: standard deviation of the noise, ``>= 0``.
        root: ``"gmm"`` or ``"gaussian"``.
        outlier_fraction: share of rows turned into outliers, in ``[0, 1]``.
        seed: integer seed.

    Returns:
        ``(data, graph)``: a float64 DataFrame with one column per node (name order), and the
        ``networkx.DiGraph``; ``graph.graph`` records the settings and ``"outlier_rows"``.

    Example:
        >>> data, graph = random_scm(4, 50, expected_degree=2, mechanism="linear", seed=3)
        >>> data.shape, list(data.columns) == sorted(graph.nodes)
        ((50, 4), True)
        >>> bool(abs(data.std(ddof=0) - 1).max() < 1e-9)
        True
    """
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown mechanism {mechanism!r}; choose one of {sorted(MECHANISMS)}")
    if root not in ROOTS:
        raise ValueError(f"unknown root {root!r}; choose one of {sorted(ROOTS)}")
    if noise not in _NOISES:
        raise ValueError(f"unknown noise {noise!r}; choose one of {list(_NOISES)}")
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}")
    if not noise_scale >= 0:
        raise ValueError(f"noise_scale must be >= 0; got {noise_scale!r}")
    if not 0 <= outlier_fraction <= 1:
        raise ValueError(f"outlier_fraction must lie in [0, 1]; got {outlier_fraction!r}")
    n = int(n_samples)
    rng = np.random.default_rng(seed)
    graph = random_dag(n_nodes, expected_degree, seed=rng)
    mech, draw_root = MECHANISMS[mechanism], ROOTS[root]

    columns: dict[str, np.ndarray] = {}
    for node in nx.topological_sort(graph):
        parents = sorted(graph.predecessors(node))
        if not parents:
            values = draw_root(n, rng)
        else:
            z = rng.standard_normal(n) if noise == "gaussian" else rng.uniform(-np.sqrt(3), np.sqrt(3), n)
            x = np.column_stack([columns[p] for p in parents])
            values = mech(x, noise_scale * z, rng)
        columns[node] = _standardise(np.asarray(values, dtype=np.float64))

    data = pd.DataFrame({v: columns[v] for v in graph.nodes}, dtype=np.float64)
    n_out = int(round(outlier_fraction * n))
    outlier_rows = np.sort(rng.choice(n, size=n_out, replace=False)) if n_out else np.array([], dtype=int)
    if n_out:
        values = data.to_numpy(copy=True)
        low, high = values.min(0), values.max(0)
        values[outlier_rows] = rng.uniform(low, high, size=(n_out, values.shape[1]))
        data = pd.DataFrame(values, columns=data.columns)
    data = data.apply(lambda c: _standardise(c.to_numpy()), result_type="broadcast").astype(np.float64)
    graph.graph.update(
        expected_degree=expected_degree,
        mechanism=mechanism,
        noise=noise,
        noise_scale=noise_scale,
        root=root,
        outlier_fraction=outlier_fraction,
        seed=seed,
        outlier_rows=outlier_rows.tolist(),
    )
    return data, graph
