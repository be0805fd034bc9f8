"""Everything an augmentation run decides before touching the data: order, pillows, bandwidths, threshold."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._bandwidth import bandwidths
from ._custom_types import BandwidthSpec
from ._graph import CausalGraph, GraphLike, as_graph
from ._kernels import KERNELS
from ._tabular import Table, prepare_table

__all__ = ["Plan", "make_plan", "sampling_plan"]


@dataclass(frozen=True)
class Plan:
    """A validated augmentation problem.

    Attributes:
        graph: the causal graph.
        table: the encoded data.
        h: ``(d,)`` bandwidths (1 for categorical columns).
        order: column indices in topological order.
        pillows: for each entry of ``order``, the column indices of its conditioning set.
        threshold_eff: θ_eff, the absolute pruning level (θ/n when normalised).
        kernel: kernel name.
        config: the user's settings, JSON-ready.
    """

    graph: CausalGraph
    table: Table
    h: np.ndarray
    order: tuple[int, ...]
    pillows: tuple[tuple[int, ...], ...]
    threshold_eff: float
    kernel: str
    config: dict = field(default_factory=dict)

    @property
    def log_threshold(self) -> float:
        return math.log(self.threshold_eff) if self.threshold_eff > 0 else -math.inf

    def row_bound(self) -> float:
        """Most rows any step can keep: weights sum to at most 1, so ≤ 1/θ_eff; and ≤ n^d."""
        n, d = self.table.n, self.table.d
        combinatorial = float(n) ** d
        if self.threshold_eff > 0:
            # The sum of kept weights is 1 up to rounding; the slack covers it.
            return min(math.floor((1.0 + 1e-9) / self.threshold_eff), combinatorial)
        return combinatorial


def make_plan(
    data: pd.DataFrame,
    graph: GraphLike,
    *,
    threshold: float,
    normalize_threshold: bool,
    kernel: str,
    bandwidth: BandwidthSpec,
    bandwidth_scale: float,
    categorical: Iterable[Hashable] | None,
) -> Plan:
    """Validate every input of an augmentation run and fix its order, pillows and bandwidths."""
    graph = as_graph(graph)
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number in [0, 1), got {threshold!r}") from None
    if not (0.0 <= threshold < 1.0):
        raise ValueError(f"threshold must lie in [0, 1), got {threshold}; 0 keeps every row with positive weight")
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; use one of {list(KERNELS)}")
    table = prepare_table(data, graph, categorical)
    h = bandwidths(table, bandwidth, bandwidth_scale)
    position = {name: j for j, name in enumerate(table.columns)}
    names = graph.topological_order()
    pillows = graph.markov_pillows(names)
    order = tuple(position[v] for v in names)
    pillow_idx = tuple(tuple(position[p] for p in pillows[v]) for v in names)
    theta_eff = threshold / table.n if normalize_threshold else threshold
    config = {
        "threshold": threshold,
        "normalize_threshold": bool(normalize_threshold),
        "kernel": kernel,
        "bandwidth": bandwidth if isinstance(bandwidth, (str, float, int)) else dict(bandwidth),
        "bandwidth_scale": float(bandwidth_scale),
        "categorical": [str(c) for c, cat in zip(table.columns, table.is_categorical) if cat],
        "bandwidths": {str(c): float(v) for c, v, cat in zip(table.columns, h, table.is_categorical) if not cat},
        "threshold_eff": theta_eff,
        "n_train": table.n,
    }
    return Plan(graph, table, h, order, pillow_idx, theta_eff, kernel, config)


def sampling_plan(data, graph, *, kernel: str, bandwidth, bandwidth_scale: float, categorical) -> Plan:
    """The plan of ancestral sampling: :func:`make_plan` with no pruning (every row can be drawn)."""
    return make_plan(data, graph, threshold=0.0, normalize_threshold=False, kernel=kernel, bandwidth=bandwidth,
                     bandwidth_scale=bandwidth_scale, categorical=categorical)
