"""The bound-pruned scored step: each partial row is scored only against the k-d tree leaves
that can matter to it.

Training rows are grouped into leaves of a k-d tree over the conditioning columns (``_leaves``);
the kernel at a leaf box's nearest point bounds the kernel of each of its rows from above. For a
partial row with weight ``w`` and conditioning values ``z``, the ``M`` leaves with the largest
bounds are scored exactly, giving ``Z_S``, their part of the normaliser ``Z = Σ_i K(z - x_i)``.
The row is settled by them when every other leaf

* cannot hold a kept candidate: ``w · ub_leaf < θ_eff · Z_S`` (exact: ``Z ≥ Z_S``), and
* cannot move the normaliser: ``Σ count_leaf · ub_leaf ≤ ε · Z_S`` with ``ε = 2^-53``, the unit
  roundoff of float64, so ``Z_S`` is ``Z`` to within its own rounding error.

A row that is not settled (its bounds are too loose, or ``θ_eff`` is below ``ε``) falls back to
the full scan against all n rows, in the same compiled step; the fallbacks are counted and
reported. The kept rows and weights are those of the full scan.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._custom_types import Array, Float, Int
from ._expand import Training, append_kept, empty_output, flat_ids, full_scores, unflatten
from ._export_cache import cached_jit, to_device
from ._host_step import log_kernel_numpy
from ._kernels import log_box_bound, log_kernel_rows
from ._leaves import leaf_boxes, leaf_order

__all__ = ["Leaves", "make_leaves", "choose_leaves", "pruned_step"]

# The relative mass of the normaliser that skipped leaves may hold: float64's unit roundoff.
LOG_EPS = -53 * math.log(2.0)
# Candidates per chunk of the pruned step.
_CANDIDATES_PER_CHUNK = 1 << 16


class Leaves:
    """Training rows in k-d tree leaf order over one conditioning set, with the leaf boxes (host side).

    Arrays are laid out for ``n_pad`` rows (the padded training table): leaves past the last
    real row are empty (``lo = +inf``, ``hi = -inf``, count 0), so nearby row counts share shapes.
    """

    def __init__(self, x_pillow: np.ndarray, is_cat: np.ndarray, leaf: int, n_pad: int | None = None):
        n, c = x_pillow.shape
        n_leaves = -(-max(n, n_pad or n) // leaf)
        order = leaf_order(x_pillow, leaf, first=is_cat)
        self.leaf = leaf
        self.perm = np.zeros(n_leaves * leaf, np.int32)
        self.perm[:n] = order
        self.points = np.zeros((n_leaves * leaf, c))
        self.points[:n] = x_pillow[order]
        self.lo, self.hi = leaf_boxes(self.points, n, leaf)
        counts = np.clip(n - leaf * np.arange(n_leaves), 0, leaf).astype(np.float64)
        with np.errstate(divide="ignore"):
            self.log_count = np.log(counts)

    @property
    def n_leaves(self) -> int:
        return self.lo.shape[0]


def leaf_size(n: int) -> int:
    """Rows per leaf: a power of two near sqrt(n)/2, so that there are about 2·sqrt(n) leaves."""
    return max(4, 1 << int(round(math.log2(max(1.0, math.sqrt(n) / 2)))))


def make_leaves(x: np.ndarray, is_cat: np.ndarray, pillow: tuple[int, ...], n_pad: int | None = None) -> Leaves:
    """The leaves of the conditioning columns ``pillow`` of ``x``, laid out for ``n_pad`` rows."""
    cols = list(pillow)
    n_pad = n_pad or x.shape[0]
    return Leaves(x[:, cols], is_cat[cols], leaf_size(n_pad), n_pad)


def choose_leaves(leaves: Leaves, z: np.ndarray, lw: np.ndarray, x_pillow: np.ndarray, h: np.ndarray,
                  is_cat: np.ndarray, kernel: str, log_threshold: float) -> int:
    """The number ``M`` of leaf slots per row that minimises the expected work on probe rows.

    Each probe row (conditioning values ``z``, log-weight ``lw``) needs the leaves that pass the
    pruned step's cut-offs; a row needing more than ``M`` costs a full scan of n rows. Returns
    0 when scoring every row in full is cheaper.
    """
    n = x_pillow.shape[0]
    b = np.arange(len(z))
    log_ub = log_kernel_numpy(z[:, None, :], np.clip(z[:, None, :], leaves.lo[None], leaves.hi[None]), h, is_cat, kernel)
    best = np.argmax(log_ub, axis=1)
    first = best[:, None] * leaves.leaf + np.arange(leaves.leaf)[None, :]
    log_k = np.where(first < n, log_kernel_numpy(z[:, None, :], leaves.points[first], h, is_cat, kernel), -np.inf)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        peak = np.max(log_k, axis=1)
        shift = np.where(np.isfinite(peak), peak, 0.0)
        log_z1 = shift + np.log(np.sum(np.exp(log_k - shift[:, None]), axis=1))
    cutoff = np.minimum(log_z1 + LOG_EPS - math.log(n), log_threshold + log_z1 - lw)
    need = np.sum((log_ub >= cutoff[:, None]) & (log_ub > -np.inf), axis=1)
    del b
    best_m, best_cost = 0, float(n)
    m = 1
    while m < leaves.n_leaves:
        # Scoring a gathered leaf row costs about twice a row of the full scan; the bounds cost one per leaf.
        cost = 2.0 * m * leaves.leaf + np.mean(need > m) * n + 2.0 * leaves.n_leaves + 2.0 * leaves.leaf
        if cost < best_cost:
            best_m, best_cost = m, cost
        m *= 2
    return best_m


def _pruned_step(
    train: Training,
    pillow: Int[Array, " c"],
    var: Int[Array, ""],
    parent_idx: Int[Array, "cap d"],
    parent_lw: Float[Array, " cap"],
    parent_count: Int[Array, ""],
    log_threshold: Float[Array, ""],
    perm: Int[Array, " n_pad"],
    points: Float[Array, "n_pad c"],
    lo: Float[Array, "l c"],
    hi: Float[Array, "l c"],
    log_count: Float[Array, " l"],
    *,
    kernel: str,
    chunk: int,
    full_chunk: int,
    leaves: int,
) -> tuple[Int[Array, "cap d"], Float[Array, " cap"], Int[Array, ""], Int[Array, ""]]:
    """The scored step, each row scored against its ``leaves`` best leaves; unsettled rows get a full scan.

    Returns the buffers, the count and the number of rows that fell back to the full scan.
    """
    cap = parent_idx.shape[0]
    n = train.x.shape[0]
    n_real = train.n
    n_leaves = lo.shape[0]
    leaf = points.shape[0] // n_leaves
    local = train.columns(pillow)
    x_pillow, h_pillow, cat_pillow = local.x, local.h, local.is_categorical
    eps = jnp.asarray(LOG_EPS, parent_lw.dtype)
    log_n = jnp.log(n_real.astype(parent_lw.dtype))

    def score(i, state):
        out_flat, out_lw, count, failed, n_failed = state
        rows = i * chunk + jnp.arange(chunk, dtype=parent_count.dtype)
        valid = rows < parent_count
        rows = jnp.minimum(rows, cap - 1)
        lw = parent_lw[rows]
        z = jnp.take_along_axis(x_pillow, parent_idx[rows][:, pillow], axis=0)
        log_ub = log_box_bound(z, lo, hi, h_pillow, cat_pillow, kernel)
        # The best leaf, scored exactly, bounds the normaliser from below: Z >= Z_1.
        best = jnp.argmax(log_ub, axis=1)
        first = best[:, None] * leaf + jnp.arange(leaf)[None, :]
        log_z1 = jax.nn.logsumexp(
            jnp.where(first < n_real.astype(first.dtype), log_kernel_rows(z, points[first], h_pillow, cat_pillow, kernel), -jnp.inf), axis=1)
        # A leaf below both cut-offs can neither hold a kept row nor move Z: it is skipped.
        cutoff = jnp.minimum(log_z1 + eps - log_n, log_threshold + log_z1 - lw)
        chosen = (log_ub >= cutoff[:, None]) & (log_ub > -jnp.inf)
        ends = jnp.cumsum(chosen, axis=1, dtype=jnp.int32)
        # Slot s holds the leaf whose inclusive count of chosen leaves first exceeds s (a count
        # by comparison: XLA's CPU scatter is many times slower); unused slots get n_leaves.
        slots = jnp.sum(ends[:, None, :] <= jnp.arange(leaves, dtype=jnp.int32)[None, :, None], axis=2,
                        dtype=jnp.int32)
        rest_ub = jnp.where(chosen, -jnp.inf, log_ub)
        log_rest = jax.nn.logsumexp(rest_ub + log_count, axis=1)
        # Unused slots point past the last leaf: their positions are past the real rows and masked.
        pos = (slots[:, :, None] * leaf + jnp.arange(leaf, dtype=jnp.int32)[None, None, :]).reshape(chunk, leaves * leaf)
        log_k = jnp.where(pos < n_real.astype(pos.dtype), log_kernel_rows(z, points[jnp.minimum(pos, points.shape[0] - 1)], h_pillow,
                                                    cat_pillow, kernel), -jnp.inf)
        log_z = jax.nn.logsumexp(log_k, axis=1)
        settled = (ends[:, -1] <= leaves) & ((log_rest == -jnp.inf) | (
            (log_rest <= log_z + eps) & (lw + jnp.max(rest_ub, axis=1) - log_z < log_threshold)))
        log_w = lw[:, None] + jnp.where(jnp.isfinite(log_z)[:, None], log_k - log_z[:, None], -jnp.inf)
        keep = (valid & settled)[:, None] & (log_w >= log_threshold) & (log_w > -jnp.inf)
        out_flat, out_lw, count = append_kept(out_flat, out_lw, count, keep, log_w,
                                              lambda b, c: rows[b].astype(out_flat.dtype) * n
                                              + perm[jnp.minimum(pos[b, c], perm.shape[0] - 1)].astype(out_flat.dtype))
        fail = valid & ~settled
        slot = jnp.where(fail, n_failed + jnp.cumsum(fail) - 1, cap)
        failed = failed.at[slot].set(rows, mode="drop")
        return out_flat, out_lw, count, failed, n_failed + jnp.sum(fail, dtype=n_failed.dtype)

    init = (*empty_output(parent_idx, parent_lw, parent_count), jnp.zeros(cap, parent_count.dtype),
            jnp.zeros((), parent_count.dtype))
    n_chunks = (parent_count + chunk - 1) // chunk
    out_flat, out_lw, count, failed, n_failed = jax.lax.fori_loop(0, n_chunks, score, init)

    def rescore(i, state):
        at = i * full_chunk + jnp.arange(full_chunk, dtype=n_failed.dtype)
        rows = failed[jnp.minimum(at, cap - 1)]
        keep, log_w = full_scores(local, pillow, parent_idx, parent_lw, rows, at < n_failed, log_threshold,
                                  kernel=kernel)
        return append_kept(*state, keep, log_w, flat_ids(rows, n, state[0].dtype))

    n_full = (n_failed + full_chunk - 1) // full_chunk
    out_flat, out_lw, count = jax.lax.fori_loop(0, n_full, rescore, (out_flat, out_lw, count))
    return unflatten(parent_idx, out_flat, var, n), out_lw, count, n_failed


_expand_pruned = cached_jit(_pruned_step, static_argnames=("kernel", "chunk", "full_chunk", "leaves"))


def pruned_step(train: Training, pillow, var, idx, lw, count, log_threshold, leaves_data: Leaves, *, kernel, leaves,
                full_chunk):
    """One pruned step on one device (arguments as for ``_expand.expand``)."""
    cap = idx.shape[0]
    width = leaves * leaves_data.leaf
    # Temporaries of a chunk stay in cache (measured: 4x faster than 2^19 candidates per chunk).
    chunk = min(1 << max(0, (_CANDIDATES_PER_CHUNK // width).bit_length() - 1), cap)
    step = partial(_expand_pruned, kernel=kernel, chunk=chunk, full_chunk=full_chunk, leaves=leaves)
    return step(train, to_device(pillow, jnp.int32), var, idx, lw, count, log_threshold,
                to_device(leaves_data.perm), to_device(leaves_data.points), to_device(leaves_data.lo),
                to_device(leaves_data.hi), to_device(leaves_data.log_count))
