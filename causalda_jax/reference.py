"""A plain numpy implementation of ADMG causal data augmentation.

It runs the same algorithm as :func:`causalda_jax.augment` — log-space kernel conditionals,
pruning after every variable, merging of identical rows — vectorised over blocks of partial
rows and pruning each block as it goes, so that its memory stays bounded too. It is the oracle
for the JAX engine in the tests and the CPU baseline in the benchmarks.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd

from ._augment import empty_reason
from ._augmented_data import AugmentedData
from ._custom_types import BandwidthSpec
from ._graph import GraphLike
from ._host_step import log_conditional_weights_numpy, log_kernel_numpy, numpy_step
from ._plan import Plan, make_plan

__all__ = ["augment_numpy", "log_conditional_weights_numpy", "log_kernel_numpy", "numpy_step", "sample_numpy"]


def _run(plan: Plan, block_rows: int) -> tuple[np.ndarray, np.ndarray, Hashable | None]:
    d = plan.table.d
    idx = np.zeros((1, d), dtype=np.int64)
    lw = np.zeros(1)
    for var, pillow in zip(plan.order, plan.pillows):
        idx, lw = numpy_step(plan, idx, lw, var, pillow, block_rows)
        if idx.shape[0] == 0:
            return idx, lw, plan.table.columns[var]
    return idx, lw, None


def augment_numpy(
    data: pd.DataFrame,
    graph: GraphLike,
    *,
    threshold: float = 1e-2,
    normalize_threshold: bool = True,
    kernel: str = "gaussian",
    bandwidth: BandwidthSpec = "normal_reference",
    bandwidth_scale: float = 1.0,
    categorical: Iterable[Hashable] | None = None,
    block_rows: int | None = None,
) -> AugmentedData:
    """The numpy twin of :func:`causalda_jax.augment`; same arguments and result.

    Example:
        >>> import pandas as pd
        >>> from causalda_jax.reference import augment_numpy
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 2.5]})
        >>> round(augment_numpy(df, {"directed": [["x", "y"]]}, threshold=0.0).mass, 12)
        1.0
    """
    plan = make_plan(
        data,
        graph,
        threshold=threshold,
        normalize_threshold=normalize_threshold,
        kernel=kernel,
        bandwidth=bandwidth,
        bandwidth_scale=bandwidth_scale,
        categorical=categorical,
    )
    block = block_rows or max(1, (1 << 19) // plan.table.n)
    idx, lw, emptied_at = _run(plan, block)
    if emptied_at is not None:
        warnings.warn(empty_reason(plan, emptied_at), stacklevel=2)
    config = {**plan.config, "engine": "numpy", "block_rows": block}
    return AugmentedData.from_index_rows(data, plan.table.values, idx, lw, plan.graph, config)


def sample_numpy(
    data: pd.DataFrame,
    graph: GraphLike,
    n_samples: int,
    *,
    seed: int = 0,
    kernel: str = "gaussian",
    bandwidth: BandwidthSpec = "normal_reference",
    bandwidth_scale: float = 1.0,
    categorical: Iterable[Hashable] | None = None,
    block_rows: int | None = None,
) -> np.ndarray:
    """Ancestral sampling with numpy (inverse-CDF draws), the CPU baseline for :func:`causalda_jax.sample`.

    Returns the ``(n_samples, d)`` training-row index of every sampled value. The draws follow
    the same distribution as ``sample`` but not the same random stream.

    Example:
        >>> import pandas as pd
        >>> from causalda_jax.reference import sample_numpy
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 2.5]})
        >>> sample_numpy(df, {"directed": [["x", "y"]]}, 5).shape
        (5, 2)
    """
    plan = make_plan(
        data,
        graph,
        threshold=0.0,
        normalize_threshold=True,
        kernel=kernel,
        bandwidth=bandwidth,
        bandwidth_scale=bandwidth_scale,
        categorical=categorical,
    )
    rng = np.random.default_rng(seed)
    x = plan.table.values
    n, d = x.shape
    block = block_rows or max(1, (1 << 19) // n)
    idx = np.zeros((n_samples, d), dtype=np.int64)
    for var, pillow in zip(plan.order, plan.pillows):
        cols = list(pillow)
        if not cols:
            idx[:, var] = rng.integers(0, n, size=n_samples)
            continue
        for start in range(0, n_samples, block):
            rows = idx[start : start + block]
            log_w = log_conditional_weights_numpy(
                x[rows[:, cols], cols], x[:, cols], plan.h[cols], plan.table.is_categorical[cols], plan.kernel
            )
            cdf = np.cumsum(np.exp(log_w), axis=1)
            u = rng.random(rows.shape[0]) * cdf[:, -1]
            rows[:, var] = np.minimum((cdf < u[:, None]).sum(axis=1), n - 1)
    return idx
