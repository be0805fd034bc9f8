"""Augmentation weights as a differentiable function of the kernel bandwidths.

A model trained on augmented rows minimises ``Σ_r w_r L_r / Σ_r w_r``. The rows themselves are
training values, so they do not move with the bandwidth; only their weights do. Holding the set
of rows fixed (the pruning decision is a mask, not differentiated) turns the augmentation into a
smooth function ``h ↦ w(h)``, and the bandwidth scale τ and per-column bandwidths can be tuned
by gradient descent on a validation loss.

The weight of a row of values ``(x_1, ..., x_d)`` is ``Π_v P_h(x_v | pillow(v))`` with

    P_h(x_v | z) = Σ_{i : X_{i,v} = x_v} K_h(z - X_i^C) / Σ_k K_h(z - X_k^C),

the kernel-conditional probability of the *value* ``x_v``: a sum over every training row that
holds it. Without ties in a column that sum has one term, and the weight is the one
:func:`causalda_jax.augment` gives the row. With ties it is the weight of the merged row when
nothing is pruned; when pruning kept only some of the index tuples that spell a row, the value
weight also counts the pruned ones (the honest weight of the row under the unpruned
augmentation), so it is at least the augment's weight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from ._augmented_data import AugmentedData
from ._custom_types import Array, Bool, Float, Int
from ._kernels import log_conditional_weights, log_kernel_matrix
from ._plan import make_plan

__all__ = ["augmentation_log_weights", "DifferentiableAugmentation"]

# Kernel entries (rows × training rows × pillow columns) per block: bounds the temporaries that
# the backward pass recomputes, whatever the number of rows.
_ENTRIES_PER_BLOCK = 1 << 17


def _default_block(m: int, n: int, pillows: Sequence[Sequence[int]]) -> int:
    widest = max([len(p) for p in pillows] + [1])
    return max(1, min(m, _ENTRIES_PER_BLOCK // (n * widest)))


def _safe_conditional(log_k: Float[Array, "b n"]) -> Float[Array, "b n"]:
    # A query with no kernel mass (compact or exact-match kernels) has no conditional. Feeding
    # such a row to the normaliser gives -inf - (-inf) in the backward pass; the double `where`
    # keeps its gradient zero instead of NaN.
    has_mass = jnp.any(jnp.isfinite(log_k), axis=-1, keepdims=True)
    safe = jnp.where(has_mass, log_k, 0.0)
    return jnp.where(has_mass, log_conditional_weights(safe), -jnp.inf)


def _masked_logsumexp(a: Float[Array, "b n"], mask: Bool[Array, "b n"]) -> Float[Array, " b"]:
    # log Σ_{mask} exp(a), -inf (with zero gradient) when no selected entry is finite.
    a = jnp.where(mask, a, -jnp.inf)
    peak = jnp.max(a, axis=-1, keepdims=True)
    peak = jax.lax.stop_gradient(jnp.where(jnp.isfinite(peak), peak, 0.0))
    total = jnp.sum(jnp.exp(a - peak), axis=-1)
    positive = total > 0
    return jnp.where(positive, jnp.log(jnp.where(positive, total, 1.0)) + peak[:, 0], -jnp.inf)


@partial(jax.jit, static_argnames=("order", "pillows", "kernel", "block_size"))
def augmentation_log_weights(
    x: Float[Array, "n d"],
    index_rows: Int[Array, "m d"],
    h: Float[Array, " d"],
    is_categorical: Bool[Array, " d"],
    order: tuple[int, ...],
    pillows: tuple[tuple[int, ...], ...],
    kernel: str = "gaussian",
    *,
    block_size: int | None = None,
) -> Float[Array, " m"]:
    """Log weight of each fixed augmented row as a smooth function of the bandwidths ``h``.

    Row ``r`` holds the values ``x[index_rows[r, j], j]``; its log weight is
    ``Σ_v log Σ_{i: x[i, v] = value_v} w_i(pillow values)`` with the kernel conditionals of
    :mod:`causalda_jax._kernels` (see the module docstring for ties). Pure and jittable;
    differentiate it in ``h`` with :func:`jax.grad`. Rows are processed ``block_size`` at a
    time under :func:`jax.checkpoint`, so memory stays bounded in the backward pass too.

    Args:
        x: ``(n, d)`` training values (categorical columns as codes).
        index_rows: ``(m, d)`` for each row and column, a training row holding its value.
        h: ``(d,)`` bandwidths (ignored for categorical columns).
        is_categorical: ``(d,)`` exact-match columns.
        order: column indices in topological order (static).
        pillows: the conditioning column indices of each entry of ``order`` (static).
        kernel: ``"gaussian"`` or ``"epanechnikov"`` (static).
        block_size: rows per block (static); default keeps about 2^17 kernel entries per block.

    Returns:
        ``(m,)`` natural-log weights (``-inf`` for weight zero).

    Example:
        >>> import jax.numpy as jnp
        >>> x = jnp.array([[0.0, 0.0], [1.0, 1.0]])
        >>> rows = jnp.array([[0, 0], [0, 1]])
        >>> lw = augmentation_log_weights(x, rows, jnp.ones(2), jnp.zeros(2, bool), (0, 1), ((), (0,)))
        >>> [round(float(v), 4) for v in jnp.exp(lw)]
        [0.3112, 0.1888]
    """
    n, d = x.shape
    m = index_rows.shape[0]
    if len(order) != len(pillows):
        raise ValueError(f"order has {len(order)} entries but pillows has {len(pillows)}; give one pillow per variable")
    if index_rows.ndim != 2 or index_rows.shape[1] != d:
        raise ValueError(f"index_rows must have shape (m, {d}), one training row per column; got {index_rows.shape}")
    if m == 0:
        return jnp.zeros(0, x.dtype)
    block = min(block_size or _default_block(m, n, pillows), m)
    n_blocks = -(-m // block)
    padded = jnp.pad(index_rows, ((0, n_blocks * block - m), (0, 0)))
    columns = [(v, np.asarray(p, dtype=np.int32)) for v, p in zip(order, pillows)]

    def block_log_weights(rows: Int[Array, "b d"]) -> Float[Array, " b"]:
        z = jnp.take_along_axis(x, rows, axis=0)
        total = jnp.zeros(rows.shape[0], x.dtype)
        # A Python loop over variables (static, d of them), not over data.
        for v, p in columns:
            match = x[None, :, v] == z[:, v, None]
            if p.size == 0:
                # A root's conditional is uniform: its value weighs (rows holding it) / n. Said
                # directly, so that XLA has no constant (b, n) kernel to fold at compile time.
                total = total + jnp.log(jnp.sum(match, axis=-1).astype(x.dtype)) - math.log(n)
                continue
            log_f = _safe_conditional(log_kernel_matrix(z[:, p], x[:, p], h[p], is_categorical[p], kernel))
            total = total + _masked_logsumexp(log_f, match)
        return total

    if n_blocks == 1:
        # One block is already small: no loop, and nothing to recompute in the backward pass.
        return block_log_weights(index_rows)
    # Checkpointed blocks: the backward pass keeps each block's inputs, not its (b, n) kernels.
    out = jax.lax.map(jax.checkpoint(block_log_weights), padded.reshape(n_blocks, block, d))
    return out.reshape(-1)[:m]


class DifferentiableAugmentation(eqx.Module):
    """The rows of an augmentation, with weights that are a differentiable function of the bandwidths.

    Bandwidths are parametrised in log space: column ``j`` uses
    ``h_j = reference_bandwidths[j] · exp(log_scale + log_h[j])``, where the reference bandwidths
    are those of the augmentation at τ = 1, so ``log_scale = log τ`` and ``log_h`` (default 0) are
    per-column log multipliers. At ``log_scale = initial_log_scale`` and ``log_h = 0`` the weights
    are those of the augmentation (exactly, for tie-free columns). Categorical columns have no
    bandwidth. A column's own bandwidth only enters through the variables it conditions: the
    bandwidth of a sink has zero gradient.

    The support (which rows exist) is fixed: rows pruned at the augmentation's τ stay absent at
    every other τ. Augment with a generous (small) threshold before tuning, and re-augment at the
    tuned scale afterwards.

    The module is a pytree: pass it to jitted functions as an argument. Closed over, its arrays
    become compile-time constants that XLA may spend a long time folding.

    Attributes:
        values: ``(n, d)`` encoded training values.
        source_rows: ``(m, d)`` training row of each value of each augmented row.
        reference_bandwidths: ``(d,)`` bandwidths at τ = 1 (1 for categorical columns).
        is_categorical: ``(d,)`` exact-match columns.
        columns: column names, in the data's order.
        order: column indices in topological order.
        pillows: conditioning column indices of each entry of ``order``.
        kernel: the kernel name.
        initial_log_scale: ``log τ`` of the augmentation the rows came from.
        block_size: rows per block, or None for the default.

    Example:
        >>> import jax, jax.numpy as jnp, pandas as pd, causalda_jax as cda
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0.0, 1.1, 1.9, 3.2]})
        >>> aug = cda.augment(df, {"directed": [["x", "y"]]}, threshold=0.0)
        >>> da = DifferentiableAugmentation.from_augmented(aug, df)
        >>> round(float(da.weights().sum()), 5)  # no pruning: weights sum to 1 at every τ
        1.0
        >>> def val_loss(log_tau, da):  # any loss of the weights; here the weighted mean of y
        ...     w = da.weights(log_tau)
        ...     return jnp.sum(w * da.rows[:, 1]) / jnp.sum(w)
        >>> grad = jax.jit(jax.grad(val_loss))(0.0, da)
    """

    values: Float[Array, "n d"]
    source_rows: Int[Array, "m d"]
    reference_bandwidths: Float[Array, " d"]
    is_categorical: Bool[Array, " d"]
    columns: tuple = eqx.field(static=True)
    order: tuple[int, ...] = eqx.field(static=True)
    pillows: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    kernel: str = eqx.field(static=True)
    initial_log_scale: float = eqx.field(static=True)
    block_size: int | None = eqx.field(static=True, default=None)

    @classmethod
    def from_augmented(
        cls, aug: AugmentedData, data: pd.DataFrame, *, block_size: int | None = None
    ) -> "DifferentiableAugmentation":
        """Fix the rows of ``aug`` and make their weights a function of the bandwidths.

        Array dtypes follow JAX's setting when this is called: build it under
        ``jax.enable_x64(True)`` for float64 weights.

        Args:
            aug: the result of :func:`causalda_jax.augment` on ``data``.
            data: the training table ``aug`` was built from.
            block_size: rows per block in :func:`augmentation_log_weights`.

        Raises:
            TypeError: ``aug`` is not an AugmentedData.
            ValueError: ``aug`` is empty or has no source rows, or ``data`` is not its training table.
        """
        if not isinstance(aug, AugmentedData):
            raise TypeError(f"aug must be an AugmentedData from causalda_jax.augment, got {type(aug).__name__}")
        if len(aug) == 0:
            raise ValueError("aug has no rows, so there are no weights to differentiate; lower the threshold")
        if aug.source_rows is None:
            raise ValueError("aug has no source_rows; use the AugmentedData returned by causalda_jax.augment")
        cfg = aug.config
        missing = [k for k in ("bandwidths", "bandwidth_scale", "categorical", "kernel", "n_train") if k not in cfg]
        if missing:
            raise ValueError(f"aug.config lacks {missing}; use the AugmentedData returned by causalda_jax.augment")
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        if len(data) != cfg["n_train"]:
            raise ValueError(
                f"data has {len(data)} rows but aug was built from {cfg['n_train']}; pass the training table of aug"
            )
        tau = float(cfg["bandwidth_scale"])
        fixed = {c: cfg["bandwidths"][str(c)] / tau for c in data.columns if str(c) in cfg["bandwidths"]}
        categorical = [c for c in data.columns if str(c) in set(cfg["categorical"])]
        plan = make_plan(
            data,
            aug.graph,
            threshold=0.0,
            normalize_threshold=False,
            kernel=cfg["kernel"],
            bandwidth=fixed,
            bandwidth_scale=1.0,
            categorical=categorical,
        )
        source = np.asarray(aug.source_rows, dtype=np.int64)
        if source.shape != (len(aug), plan.table.d) or source.min() < 0 or source.max() >= plan.table.n:
            raise ValueError(
                f"aug.source_rows has shape {source.shape} or indices outside data; pass the training table"
            )
        for j, col in enumerate(data.columns):
            held = data[col].take(source[:, j]).reset_index(drop=True)
            if col not in aug.data.columns or not held.equals(aug.data[col].reset_index(drop=True)):
                raise ValueError(
                    f"column {col!r} of data does not hold aug's values; pass the table aug was built from"
                )
        is_cat = plan.table.is_categorical
        continuous = {str(c) for c, cat in zip(plan.table.columns, is_cat) if not cat}
        if continuous != set(map(str, fixed)):
            raise ValueError(
                f"aug.config has bandwidths for {sorted(map(str, fixed))} but the continuous columns of data are "
                f"{sorted(continuous)}; pass the table aug was built from"
            )
        ref = np.where(is_cat, 1.0, plan.h)
        return cls(
            values=jnp.asarray(plan.table.values),
            source_rows=jnp.asarray(source, dtype=jnp.int32),
            reference_bandwidths=jnp.asarray(ref),
            is_categorical=jnp.asarray(is_cat),
            columns=tuple(plan.table.columns),
            order=tuple(plan.order),
            pillows=tuple(plan.pillows),
            kernel=plan.kernel,
            initial_log_scale=math.log(tau),
            block_size=block_size,
        )

    @property
    def rows(self) -> Float[Array, "m d"]:
        """``(m, d)`` values of the augmented rows (categorical columns as codes)."""
        return jnp.take_along_axis(self.values, self.source_rows, axis=0)

    def bandwidths(
        self, log_scale: Float[Array, ""] | float | None = None, log_h: Float[Array, " d"] | None = None
    ) -> Float[Array, " d"]:
        """``(d,)`` bandwidths ``reference · exp(log_scale + log_h)`` (1 for categorical columns)."""
        if log_scale is None:
            log_scale = self.initial_log_scale
        d = self.reference_bandwidths.shape[0]
        log_mult = jnp.asarray(log_scale)
        if jnp.ndim(log_mult) != 0:
            raise ValueError(f"log_scale must be a scalar (log τ), got shape {jnp.shape(log_mult)}")
        if log_h is not None:
            log_h = jnp.asarray(log_h)
            if log_h.shape != (d,):
                raise ValueError(
                    f"log_h must have shape ({d},), one log multiplier per column {list(self.columns)}; "
                    f"got {log_h.shape}"
                )
            log_mult = log_mult + log_h
        return jnp.where(self.is_categorical, 1.0, self.reference_bandwidths * jnp.exp(log_mult))

    def log_weights(
        self, log_scale: Float[Array, ""] | float | None = None, log_h: Float[Array, " d"] | None = None
    ) -> Float[Array, " m"]:
        """``(m,)`` log weights of the fixed rows at the given bandwidths (default: the augmentation's)."""
        return augmentation_log_weights(
            self.values,
            self.source_rows,
            self.bandwidths(log_scale, log_h),
            self.is_categorical,
            self.order,
            self.pillows,
            self.kernel,
            block_size=self.block_size,
        )

    def weights(
        self, log_scale: Float[Array, ""] | float | None = None, log_h: Float[Array, " d"] | None = None
    ) -> Float[Array, " m"]:
        """``(m,)`` weights of the fixed rows; use them in ``Σ w L / Σ w`` and differentiate."""
        return jnp.exp(self.log_weights(log_scale, log_h))
