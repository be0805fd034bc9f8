"""Ancestral sampling from the kernel-conditional factorization, in bounded memory, on any number of devices.

Variables are drawn in topological order. A root takes a uniformly chosen training row; any
other variable ``v`` takes training row ``i`` with probability ``w_i(z) ∝ K_h(z - X_i^C)``, the
same kernel conditional as :func:`causalda_jax.augment`, where ``z`` holds the sample's values
on the Markov pillow ``C`` of ``v``.

A choice has two stages. The training rows are grouped into leaves of a k-d tree on the
pillow's columns (:mod:`causalda_jax._leaves`, fixed-size leaves). A Gumbel-max over the
leaves, each scored by its kernel mass (the log-sum-exp of its rows' ``log K``), picks a leaf
with probability proportional to its mass; a Gumbel-max over the leaf's rows then picks a row
with probability proportional to its kernel value. The product is exactly ``w_i(z)``. The
leaf masses stream over blocks of training rows, so no ``samples × rows`` array ever exists,
and the noise costs one hash per (sample, leaf) plus one per row of the chosen leaf.

Each Gumbel is a hash (the Threefry 2x32 block cipher) of a key, the variable, the sample's
index and the leaf or row, so a sample's draw does not depend on how samples or training rows
are split into blocks, nor on how many devices share the work.

Most leaves need not be scored at all. Each leaf's box bounds its log-mass from above (row
count × kernel at the box's nearest point) and, for the Gaussian kernel, from below (Jensen's
inequality on the leaf's column means and variances). With the exact sampler's own noise, a
leaf whose perturbed upper bound falls below the best perturbed lower bound cannot win: when
one leaf remains it is the winner, when a few remain their exact masses decide, and otherwise
the full scan does (counted, see :class:`DrawStats`). The draws are the exact sampler's; see
docs/sampling.md for the argument.

The truncated sampler (``neighbors=k``) scores only the ``⌈k / leaf⌉`` leaves whose bounding
boxes allow the largest mass; the leaves' noise is the exact sampler's, so both pick the same
leaf whenever the exact one is among the candidates.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.sharding import PartitionSpec

from ._compile_cache import bucket
from ._custom_types import Array, BandwidthSpec, Bool, Float, Int
from ._export_cache import cached_jit, to_device
from ._graph import GraphLike
from ._kernels import log_kernel_matrix
from ._leaves import leaf_boxes, leaf_moments, leaf_order
from ._memory import check_memory
from ._plan import Plan, make_plan
from ._sharding import BATCH_AXIS, batch_mesh, batch_sharding, pad_to_multiple
from ._tabular import frame_from_rows

if TYPE_CHECKING:
    from ._stream import ParquetSample

__all__ = ["sample", "NoConditionalError"]

# Default block sizes (samples per device per chunk, training rows per block).
_SAMPLE_BLOCK = {"cpu": 1024, "other": 32768}
_ROW_BLOCK = {"cpu": 2048, "other": 4096}
# Training rows per leaf (even: rows are hashed in pairs): a conditional draw picks a leaf by
# its kernel mass, then a row in it.
_LEAF = 128
# Leaves whose exact masses the pruned sampler computes when bounds alone do not decide (0: the
# full scan for every draw), and the group sizes (samples) of its second and third stages.
_CANDIDATE_LEAVES = 8
_CANDIDATE_GROUP = 64
_FULL_GROUP = 16
# Redraw rounds for samples that reach a variable with no kernel conditional.
_MAX_ROUNDS = 100


class DrawStats(NamedTuple):
    """How the leaf choices of one ``sample`` call were decided (redrawn samples included).

    Attributes:
        by_bounds: choices decided by the leaves' kernel bounds alone.
        by_candidates: choices decided by the exact masses of a few candidate leaves.
        full_scans: choices that needed the exact mass of every leaf (the fallback; all of
            them when pruning is off).
    """

    by_bounds: int
    by_candidates: int
    full_scans: int


class NoConditionalError(ValueError):
    """Too many samples reach a pillow configuration where every kernel value is zero."""


def _rotl(x: Array, r: int) -> Array:
    return (x << jnp.uint32(r)) | (x >> jnp.uint32(32 - r))


def _hash_pairs(k0: Array, k1: Array, s: Array, m: Array) -> tuple[Array, Array]:
    """Threefry 2x32 (20 rounds) of the counter ``(s, m)`` under the key ``(k0, k1)``: two uint32 words.

    Bit for bit the cipher behind ``jax.random`` (``jax.extend.random.threefry2x32_p``), written
    out as straight-line array ops: XLA fuses it into the surrounding kernel, where the
    primitive's CPU lowering is a rolled loop that compiles ~10x slower and runs ~5x slower.
    All four arguments are uint32 arrays that broadcast together.
    """
    ks = (k0, k1, k0 ^ k1 ^ jnp.uint32(0x1BD11BDA))
    rotations = ((13, 15, 26, 6), (17, 29, 16, 24))
    x0, x1 = s + ks[0], m + ks[1]
    for i in range(5):
        for r in rotations[i % 2]:
            x0 = x0 + x1
            x1 = _rotl(x1, r) ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + jnp.uint32(i + 1)
    shape = jnp.broadcast_shapes(k0.shape, k1.shape, s.shape, m.shape)
    return jnp.broadcast_to(x0, shape), jnp.broadcast_to(x1, shape)


def _gumbel_from_bits(bits: Int[Array, "..."]) -> Float[Array, "..."]:
    """Standard Gumbel noise ``-log E`` with ``E = -log(1 - V)`` exponential, ``V`` uniform.

    ``V`` is formed as ``bits · 2^-32`` in float32, which is finely resolved near 0, where the
    small exponentials (large Gumbels, the winners of the argmax) live.
    """
    v = (bits.astype(jnp.float32) + 0.5) * jnp.float32(2.0**-32)
    v = jnp.minimum(v, jnp.float32(1.0 - 2.0**-24))
    return -jnp.log(-jnp.log1p(-v))


def _max_argmax(score: Float[Array, "b t"], index: Int[Array, "b t"]) -> tuple[Float[Array, " b"], Int[Array, " b"]]:
    """Row-wise (max, index of the max) in one variadic reduction; ties go to the lower index."""

    def pick(a, b):
        a_v, a_i = a
        b_v, b_i = b
        take_b = (b_v > a_v) | ((b_v == a_v) & (b_i < a_i))
        return jnp.where(take_b, b_v, a_v), jnp.where(take_b, b_i, a_i)

    init = (jnp.float32(-jnp.inf), jnp.int32(jnp.iinfo(jnp.int32).max))
    return jax.lax.reduce((score, index), init, pick, (1,))


def _merge(best, arg, new_best, new_arg):
    """Keep the larger score; on a tie the lower row index, so blocking never changes the choice."""
    take = (new_best > best) | ((new_best == best) & (new_arg < arg))
    return jnp.where(take, new_best, best), jnp.where(take, new_arg, arg)


def _gumbel(k: Int[Array, " 2"], s: Int[Array, " b"], m: Int[Array, "b t"]) -> Float[Array, "b t"]:
    """Gumbel noise for the counters ``m`` (one cipher call each) of samples ``s``."""
    return _gumbel_from_bits(_hash_pairs(k[0], k[1], s[:, None], m.astype(jnp.uint32))[0])


def _materialized(make, like, trips):
    """``make()``, computed into a buffer of its own rather than fused into its consumer.

    XLA's CPU backend fuses the hash into the reduction that consumes it, as one loop that it
    does not vectorise (~7x slower). The value of a loop whose trip count is traced (``trips``
    is 1 at run time) must be materialised.
    """
    return jax.lax.fori_loop(0, trips, lambda i, carry: make(), like)


def _choose_pairs(k_row, s, log_k_even, log_k_odd, m, n_rows):
    """Gumbel-max over rows ``2m`` and ``2m + 1`` given their ``log K``: (best score, position).

    The two words of the hash of ``(s, m)`` go to the even and the odd row: one cipher call per
    two rows, scored as two aligned arrays.
    """
    m = jnp.broadcast_to(m, log_k_even.shape)

    def noise():
        y0, y1 = _hash_pairs(k_row[0], k_row[1], s[:, None], m.astype(jnp.uint32))
        return _gumbel_from_bits(y0), _gumbel_from_bits(y1)

    zeros = jnp.zeros(m.shape, jnp.float32)
    g0, g1 = _materialized(noise, (zeros, zeros), jnp.minimum(n_rows, 1))
    even = _max_argmax(log_k_even + g0, 2 * m)
    odd = _max_argmax(log_k_odd + g1, 2 * m + 1)
    return _merge(*even, *odd)


def _leaf_log_mass(log_k: Float[Array, "b t"], leaf: int) -> Float[Array, "b l"]:
    """Log-sum-exp of the kernel values of each leaf (``-inf`` for a leaf with none)."""
    return jax.nn.logsumexp(log_k.reshape(log_k.shape[0], -1, leaf), axis=-1)


def _row_log_kernel(z: Float[Array, "b c"], xg: Float[Array, "b t c"], h, is_cat, kernel: str) -> Float[Array, "b t"]:
    """``log K`` of each sample against its own ``t`` gathered rows."""
    return jax.vmap(lambda zi, xi: log_kernel_matrix(zi[None], xi, h, is_cat, kernel)[0])(z, xg)


def _choose_in_leaf(k_row, s, z, xs, leaf_id, hp, cp, n_rows, *, kernel: str, leaf: int):
    """Gumbel-max among the rows of leaf ``leaf_id`` of each sample: (best score, leaf-order position).

    ``leaf_id=None`` when one leaf holds every row: its rows are then the same for every sample
    and are sliced rather than gathered.
    """
    if leaf_id is None:
        even = 2 * jnp.arange(leaf // 2, dtype=jnp.int32)

        def log_k(pos):
            return jnp.where(pos < n_rows, log_kernel_matrix(z, xs[pos], hp, cp, kernel), -jnp.inf)

    else:
        even = leaf_id[:, None] * leaf + 2 * jnp.arange(leaf // 2, dtype=jnp.int32)

        def log_k(pos):
            return jnp.where(pos < n_rows, _row_log_kernel(z, xs[pos], hp, cp, kernel), -jnp.inf)

    return _choose_pairs(k_row, s, log_k(even), log_k(even + 1), even // 2, n_rows)


def _choose_leaf_exact(k_leaf, s, z, xs, hp, cp, n_rows, *, kernel: str, row_block: int, leaf: int):
    """Streaming Gumbel-max over every leaf, scored by its kernel mass: (leaf, has_conditional).

    One pass over the training rows in blocks of ``row_block`` (a multiple of ``leaf``): the
    kernel values of a block are reduced to leaf masses at once, so no ``samples × rows`` array
    exists, and the noise costs one cipher call per (sample, leaf).
    """
    b = s.shape[0]
    per_block = row_block // leaf

    def block(i, carry):
        best, arg = carry
        xb = jax.lax.dynamic_slice_in_dim(xs, i * row_block, row_block)
        pos = i * row_block + jnp.arange(row_block, dtype=jnp.int32)
        log_k = jnp.where(pos < n_rows, log_kernel_matrix(z, xb, hp, cp, kernel), -jnp.inf)
        ids = i * per_block + jax.lax.broadcasted_iota(jnp.int32, (b, per_block), 1)
        score = _leaf_log_mass(log_k, leaf) + _gumbel(k_leaf, s, ids)
        return _merge(best, arg, *_max_argmax(score, ids))

    init = (jnp.full(b, -jnp.inf, jnp.float32), jnp.zeros(b, jnp.int32))
    # A traced trip count: XLA cannot unroll a one-block loop into a fused, slower form.
    n_blocks = (n_rows + row_block - 1) // row_block
    best, arg = jax.lax.fori_loop(0, n_blocks, block, init)
    return arg, best > -jnp.inf


def _leaf_bounds(z: Float[Array, "b c"], lo: Float[Array, "l c"], hi: Float[Array, "l c"], hp, cp, kernel: str):
    """An upper bound of ``log K`` over each leaf's box: the kernel at the box's nearest point.

    An empty box (``lo = +inf``, ``hi = -inf``) has its nearest point at infinity: ``-inf``.
    """
    nearest = jnp.minimum(jnp.maximum(z[:, None, :], lo[None]), hi[None])
    return _row_log_kernel(z, nearest, hp, cp, kernel)


def _leaf_lower_bounds(z: Float[Array, "b c"], lo, hi, mean, var, mask, hp, cp, kernel: str) -> Float[Array, "b l"]:
    """A lower bound of each leaf's mean ``log K`` over its rows (so ``log count +`` it bounds its log-mass).

    Gaussian: the mean of ``-u²/2`` is exact from the leaf's column means and variances
    (Jensen: ``log Σ exp a_i ≥ log count + mean a_i``). Epanechnikov: the kernel at the box's
    farthest corner. A categorical column gives 0 only when the box is the sample's value
    alone. Padding columns (``mask`` false, unbounded box) give 0; an empty box gives ``-inf``.
    """
    zb = z[:, None, :]
    if kernel == "gaussian":
        cont = -0.5 * ((zb - mean[None]) ** 2 + var[None]) / (hp * hp)
        cat = jnp.where((lo[None] == hi[None]) & (zb == lo[None]), 0.0, -jnp.inf)
        total = jnp.where(cp, cat, jnp.where(mask, cont, 0.0)).sum(axis=-1)
        return jnp.where((lo <= hi).all(axis=-1)[None], total, -jnp.inf)
    far = jnp.where(jnp.abs(zb - lo[None]) > jnp.abs(zb - hi[None]), lo[None], hi[None])
    return _row_log_kernel(z, jnp.where(mask, far, zb), hp, cp, kernel)


def _log_counts(n_leaves: int, n_rows, leaf: int) -> Float[Array, " l"]:
    """``log`` of each leaf's number of real rows (all full but the last; ``-inf`` for none)."""
    ids = jnp.arange(n_leaves, dtype=jnp.int32)
    return jnp.log(jnp.clip(n_rows - ids * leaf, 0, leaf).astype(jnp.float32))


def _margin(t: Float[Array, "..."]) -> Float[Array, "..."]:
    """Slack for comparing a bound with a computed leaf score: far above float32 rounding of either."""
    return jnp.float32(1e-4) * (1.0 + jnp.abs(jnp.where(jnp.isfinite(t), t, 0.0)))


def _compacted(need: Bool[Array, " b"], size: int, fn, out):
    """Apply ``fn`` to the samples where ``need`` holds, ``size`` at a time, writing into ``out``.

    ``fn(idx)`` maps ``size`` sample indices to a tuple of per-sample values. The work is
    proportional to the number of samples that need it (rounded up to ``size``), with static
    shapes: the indices are compacted to the front, the last group is padded with an
    out-of-range index whose results are dropped.
    """
    b = need.shape[0]
    size = min(size, b)
    order = jnp.nonzero(need, size=pad_to_multiple(b, size), fill_value=b)[0].astype(jnp.int32)

    def group(i, out):
        idx = jax.lax.dynamic_slice_in_dim(order, i * size, size)
        values = fn(jnp.minimum(idx, b - 1))
        return tuple(o.at[idx].set(v, mode="drop") for o, v in zip(out, values))

    trips = (need.sum(dtype=jnp.int32) + size - 1) // size
    return jax.lax.fori_loop(0, trips, group, out)


# The pruned leaf choice's stages, as recorded per (sample, variable).
STAGE_NONE, STAGE_BOUNDS, STAGE_CANDIDATES, STAGE_FULL = 0, 1, 2, 3


def _choose_leaf_pruned(
    k_leaf, s, z, xs, lo, hi, mean, var, mask, hp, cp, n_rows, *, kernel: str, row_block: int, leaf: int, n_cand: int
):
    """The exact sampler's leaf, found from bounds where they suffice: (leaf, has_conditional, stage).

    The exact sampler picks ``argmax_l (log mass_l + G_l)``. Every leaf gets the exact
    sampler's noise ``G_l`` and bounds ``lo_l ≤ log mass_l ≤ up_l`` from its box. The winner
    scores at least ``W = max_l (lo_l + G_l)``, so only the leaves with ``up_l + G_l ≥ W`` can
    win. If that set holds:

    1. one leaf (and ``W > -inf``): it is the winner (stage 1, no row is scored);
    2. at most ``n_cand`` leaves: their exact masses decide (stage 2);
    3. more: the exact full scan decides (stage 3).

    Stages 2 and 3 run only for the samples that reach them, in groups of fixed size. The set
    keeps a margin far above float32 rounding, so the choice is the exact sampler's own.
    """
    b = s.shape[0]
    n_leaves = lo.shape[0]
    ids = jax.lax.broadcasted_iota(jnp.int32, (b, n_leaves), 1)
    g = _materialized(lambda: _gumbel(k_leaf, s, ids), jnp.zeros((b, n_leaves), jnp.float32), jnp.minimum(n_rows, 1))
    log_count = _log_counts(n_leaves, n_rows, leaf)
    upper = _leaf_bounds(z, lo, hi, hp, cp, kernel) + log_count + g
    least = jnp.max(_leaf_lower_bounds(z, lo, hi, mean, var, mask, hp, cp, kernel) + log_count + g, axis=1)
    # A buffer of its own: the grouped stages gather rows of it, and XLA would otherwise
    # recompute the whole of it inside their loop, once per group.
    member = jax.lax.optimization_barrier((upper >= (least - _margin(least))[:, None]) & (upper > -jnp.inf))
    n_member = member.sum(axis=1, dtype=jnp.int32)
    single = (n_member == 1) & (least > -jnp.inf)
    leaf_id = jnp.sum(jnp.where(member, ids, 0), axis=1)  # the member, where there is one
    ok = n_member > 0
    stage = jnp.where(
        single | ~ok, STAGE_BOUNDS, jnp.where(n_member <= n_cand, STAGE_CANDIDATES, STAGE_FULL)
    ).astype(jnp.int8)

    def candidates(idx):
        m = member[idx]
        slot = jnp.where(m, jnp.cumsum(m, axis=1, dtype=jnp.int32) - 1, n_cand)
        rows = jnp.arange(idx.shape[0], dtype=jnp.int32)[:, None]
        empty = jnp.full((idx.shape[0], n_cand), n_leaves, jnp.int32)
        cand = empty.at[rows, slot].set(ids[: idx.shape[0]], mode="drop")  # the members, in leaf order
        valid = cand < n_leaves
        cand = jnp.where(valid, cand, 0)
        pos = (cand[:, :, None] * leaf + jnp.arange(leaf, dtype=jnp.int32)).reshape(idx.shape[0], -1)
        log_k = jnp.where(pos < n_rows, _row_log_kernel(z[idx], xs[pos], hp, cp, kernel), -jnp.inf)
        score = jnp.where(valid, _leaf_log_mass(log_k, leaf) + _gumbel(k_leaf, s[idx], cand), -jnp.inf)
        best, pick = _max_argmax(score, cand)
        return pick, best > -jnp.inf

    leaf_id, ok = _compacted(stage == STAGE_CANDIDATES, _CANDIDATE_GROUP, candidates, (leaf_id, ok))

    def full(idx):
        return _choose_leaf_exact(
            k_leaf, s[idx], z[idx], xs, hp, cp, n_rows, kernel=kernel, row_block=row_block, leaf=leaf
        )

    leaf_id, ok = _compacted(stage == STAGE_FULL, _FULL_GROUP, full, (leaf_id, ok))
    return leaf_id, ok, stage


def _choose_leaf_truncated(k_leaf, s, z, xs, lo, hi, hp, cp, n_rows, *, kernel: str, leaf: int, n_leaves: int):
    """Gumbel-max over the ``n_leaves`` leaves with the largest mass bound: (leaf, has_conditional).

    A leaf's bound is its row count times the kernel at its box's nearest point (ties to the
    lower leaf). The candidates' masses are exact and their noise is the exact sampler's, so
    wherever the exact sampler's leaf is a candidate both choose the same leaf.
    """
    ids_all = jnp.arange(lo.shape[0], dtype=jnp.int32)
    count = jnp.clip(n_rows - ids_all * leaf, 0, leaf).astype(jnp.float32)
    bound = _leaf_bounds(z, lo, hi, hp, cp, kernel) + jnp.log(count)
    _, ids = jax.lax.top_k(bound, n_leaves)  # ties to the lower leaf
    pos = (ids[:, :, None] * leaf + jnp.arange(leaf, dtype=jnp.int32)).reshape(ids.shape[0], -1)
    log_k = jnp.where(pos < n_rows, _row_log_kernel(z, xs[pos], hp, cp, kernel), -jnp.inf)
    score = _leaf_log_mass(log_k, leaf) + _gumbel(k_leaf, s, ids)
    best, arg = _max_argmax(score, ids)
    return arg, best > -jnp.inf


def _mul_wide(a: Int[Array, "..."], b: Int[Array, "..."]) -> tuple[Int[Array, "..."], Int[Array, "..."]]:
    """The 64-bit product of uint32 arrays as (high word, low word), from 16-bit limbs."""
    mask = jnp.uint32(0xFFFF)
    a0, a1 = a & mask, a >> 16
    b0, b1 = b & mask, b >> 16
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> 16) + (p01 & mask) + (p10 & mask)
    lo = (p00 & mask) | (mid << 16)
    hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16)
    return hi, lo


def _uniform_index(y0: Int[Array, "..."], y1: Int[Array, "..."], n: Int[Array, ""]) -> Int[Array, "..."]:
    """``floor(u · n)`` for the 64-bit fraction ``u = (y0·2^32 + y1) / 2^64``: bias below n / 2^64."""
    n = n.astype(jnp.uint32)
    h0, l0 = _mul_wide(y0, n)
    h1, _ = _mul_wide(y1, n)
    carry = ((l0 + h1) < l0).astype(jnp.uint32)
    return (h0 + carry).astype(jnp.int32)


def _kernel_noise(y0: Int[Array, "..."], y1: Int[Array, "..."], kernel: str) -> Float[Array, "..."]:
    """A draw from the kernel's density per pair of random words."""
    u0 = (y0.astype(jnp.float32) + 0.5) * jnp.float32(2.0**-32)
    if kernel == "gaussian":
        # Box-Muller.
        u1 = y1.astype(jnp.float32) * jnp.float32(2.0**-32)
        return jnp.sqrt(-2.0 * jnp.log(u0)) * jnp.cos(jnp.float32(2 * math.pi) * u1)
    # Epanechnikov by inverting its CDF (2 + 3x - x^3) / 4: x = 2 sin(asin(2p - 1) / 3).
    p = jnp.clip(2.0 * u0 - 1.0, -1.0, 1.0)
    return 2.0 * jnp.sin(jnp.arcsin(p) / 3.0)


# Counters outside the range of training-row pairs, for the per-sample words of every variable.
_ROOT_COUNTER = 0xFFFFFFFF
_NOISE_COUNTER = 0xFFFFFFFE


def _draw_block(
    col_keys: Int[Array, "d 2 2"],
    ids: Int[Array, " b"],
    x: Float[Array, "n_pad d"],
    is_cat: Bool[Array, " d"],
    steps: tuple[Array, ...],
    smoothing: Float[Array, ""],
    n_rows: Int[Array, ""],
    *,
    kernel: str,
    row_block: int,
    leaf: int,
    n_leaves: int | None,
    n_cand: int,
    smooth: bool,
):
    """Draw every variable for the samples ``ids``: index rows, has-conditional flags, noise.

    ``col_keys`` holds two raw keys per column (leaf choice, row choice); all randomness is a
    hash of (key, sample, counter). ``steps`` holds, per variable in topological order, its
    column, padded pillow and mask, whether it is a root, its leaf order of the training rows
    and its leaves' boxes.
    """
    b = ids.shape[0]
    d = x.shape[1]
    s = ids.astype(jnp.uint32)
    # Words that do not depend on the choices, drawn for every column at once: a uniform
    # training row (used by roots) and kernel noise (used with smoothing).
    counters = jnp.tile(jnp.array([_ROOT_COUNTER, _NOISE_COUNTER], jnp.uint32), d)
    k0, k1 = (jnp.repeat(col_keys[:, 0, w], 2)[None] for w in (0, 1))
    y0, y1 = _hash_pairs(k0, k1, s[:, None], counters[None])
    root_pick = _uniform_index(y0[:, 0::2], y1[:, 0::2], n_rows)
    noise = _kernel_noise(y0[:, 1::2], y1[:, 1::2], kernel) if smooth else None

    def step(carry, step_arrays):
        vals, idx, alive = carry
        j, pillow, mask, is_root, perm, lo, hi, mean, var = step_arrays
        z = vals[:, pillow]
        xs = x[:, pillow][perm]  # pillow values in leaf order
        # Padding columns get an infinite bandwidth: (z - x) / h = 0 adds log K = 0.
        hp = jnp.where(mask, 1.0, jnp.inf).astype(jnp.float32)
        cp = is_cat[pillow] & mask
        k_leaf, k_row = col_keys[j, 0], col_keys[j, 1]

        def root():
            return root_pick[:, j], jnp.ones(b, bool), jnp.full(b, STAGE_NONE, jnp.int8)

        def child():
            if xs.shape[0] == leaf:
                # One leaf holds every row: its choice is certain, only the row is drawn (the
                # same noise as the two-stage draw).
                best, pos = _choose_in_leaf(k_row, s, z, xs, None, hp, cp, n_rows, kernel=kernel, leaf=leaf)
                return perm[pos], best > -jnp.inf, jnp.full(b, STAGE_NONE, jnp.int8)
            if n_leaves is not None:
                leaf_id, ok = _choose_leaf_truncated(
                    k_leaf, s, z, xs, lo, hi, hp, cp, n_rows, kernel=kernel, leaf=leaf, n_leaves=n_leaves
                )
                stage = jnp.full(b, STAGE_NONE, jnp.int8)
            elif n_cand:
                leaf_id, ok, stage = _choose_leaf_pruned(
                    k_leaf, s, z, xs, lo, hi, mean, var, mask, hp, cp, n_rows,
                    kernel=kernel, row_block=row_block, leaf=leaf, n_cand=min(n_cand, lo.shape[0] - 1),
                )
            else:
                leaf_id, ok = _choose_leaf_exact(
                    k_leaf, s, z, xs, hp, cp, n_rows, kernel=kernel, row_block=row_block, leaf=leaf
                )
                stage = jnp.full(b, STAGE_FULL, jnp.int8)
            _, pos = _choose_in_leaf(k_row, s, z, xs, leaf_id, hp, cp, n_rows, kernel=kernel, leaf=leaf)
            return perm[pos], ok, stage

        pick, ok, stage = jax.lax.cond(is_root, root, child)
        value = x[pick, j]
        if smooth:
            # Descendants condition on the smoothed value: ancestral sampling from the KDE joint.
            value = value + jnp.where(is_cat[j], 0.0, smoothing * noise[:, j])
        return (vals.at[:, j].set(value), idx.at[:, j].set(pick), alive & ok), stage

    init = (jnp.zeros((b, d), jnp.float32), jnp.zeros((b, d), jnp.int32), jnp.ones(b, bool))
    (_, idx, alive), stages = jax.lax.scan(step, init, steps)
    stages = stages.T  # (b, variables in topological order)
    if smooth:
        return idx, alive, jnp.where(is_cat, 0.0, noise), stages
    return idx, alive, jnp.zeros((b, 0), jnp.float32), stages


@partial(cached_jit, static_argnames=("kernel", "row_block", "leaf", "n_leaves", "n_cand", "smooth", "mesh"))
def _draw_chunk(
    col_keys, ids, x, is_cat, steps, smoothing, n_rows, *, kernel, row_block, leaf, n_leaves, n_cand, smooth, mesh
):
    body = partial(
        _draw_block, kernel=kernel, row_block=row_block, leaf=leaf, n_leaves=n_leaves, n_cand=n_cand, smooth=smooth
    )
    if mesh is None:
        return body(col_keys, ids, x, is_cat, steps, smoothing, n_rows)
    rep = PartitionSpec()
    split = PartitionSpec(BATCH_AXIS)
    sharded = jax.shard_map(
        body,
        mesh=mesh,
        in_specs=(rep, split, rep, rep, rep, rep, rep),
        out_specs=(split, split, split, split),
        check_vma=False,
    )
    return sharded(col_keys, ids, x, is_cat, steps, smoothing, n_rows)


@partial(jax.jit, static_argnames="d")
def _column_keys(key, *, d: int) -> Int[Array, "d 2 2"]:
    """Two raw keys per column (leaf choice, row choice), derived from ``key``."""

    def column(j):
        return jax.random.key_data(jax.random.split(jax.random.fold_in(key, j)))

    return jax.vmap(column)(jnp.arange(d, dtype=jnp.uint32))


def _as_key(seed, key):
    if seed is not None and key is not None:
        raise ValueError("pass either seed or key, not both")
    if key is None:
        seed = 0 if seed is None else seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be a non-negative int, got {seed!r}; or pass key=jax.random.key(...)")
        if not 0 <= int(seed) < 2**63:
            raise ValueError(f"seed must be a non-negative int below 2**63, got {seed}")
        return jax.random.key(int(seed))
    if not isinstance(key, jax.Array):
        raise TypeError(f"key must be a jax PRNG key (jax.random.key(...)), got {type(key).__name__}")
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single PRNG key, got a key array of shape {key.shape}")
        return key
    if key.dtype == jnp.uint32 and key.shape == (2,):
        return jax.random.wrap_key_data(key)
    raise TypeError(
        f"key must be a jax PRNG key (jax.random.key(...)) or a raw uint32[2] key, got {key.dtype}{list(key.shape)}"
    )


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _scaled_values(plan: Plan) -> np.ndarray:
    """Training values in bandwidth units (continuous columns centred first), float32-safe."""
    values = plan.table.values
    cont = ~plan.table.is_categorical
    centre = np.where(cont, values.mean(axis=0), 0.0)
    scale = np.where(cont, plan.h, 1.0)
    return ((values - centre) / scale).astype(np.float32)


def _steps(plan: Plan, x: np.ndarray, leaf: int) -> tuple[np.ndarray, ...]:
    """Per variable in topological order: column, padded pillow, pillow mask, is-root, leaf order, leaf
    boxes (lo, hi) and the leaves' column means and variances.

    ``x`` holds the scaled training values, padded to a multiple of ``leaf`` rows.
    """
    n, d = plan.table.n, plan.table.d
    n_pad = x.shape[0]
    # A power of two (at least 2), so that graphs of similar density share one compiled kernel.
    width = max(2, 1 << (max([len(p) for p in plan.pillows] + [1]) - 1).bit_length())
    pillow = np.zeros((d, width), np.int32)
    mask = np.zeros((d, width), bool)
    perm = np.tile(np.arange(n_pad, dtype=np.int32), (d, 1))
    # Padding columns get an unbounded box, so that they add nothing to a leaf's bound.
    lo = np.full((d, n_pad // leaf, width), -np.inf, np.float32)
    hi = np.full((d, n_pad // leaf, width), np.inf, np.float32)
    mean = np.zeros((d, n_pad // leaf, width), np.float32)
    var = np.zeros((d, n_pad // leaf, width), np.float32)
    for t, p in enumerate(plan.pillows):
        pillow[t, : len(p)] = p
        mask[t, : len(p)] = True
        if p:
            cols = list(p)
            perm[t, :n] = leaf_order(x[:n, cols], leaf, first=plan.table.is_categorical[cols])
            sorted_points = x[perm[t]][:, cols]
            lo[t, :, : len(p)], hi[t, :, : len(p)] = leaf_boxes(sorted_points, n, leaf)
            mean[t, :, : len(p)], var[t, :, : len(p)] = leaf_moments(sorted_points, n, leaf)
    is_root = np.array([len(p) == 0 for p in plan.pillows])
    return np.asarray(plan.order, np.int32), pillow, mask, is_root, perm, lo, hi, mean, var


def _draw(
    plan: Plan,
    n_samples: int,
    key,
    *,
    smoothing: float,
    neighbors: int | None,
    chunk_size: int | None,
    row_chunk_size: int | None,
    devices,
    offset: int = 0,
) -> tuple[np.ndarray, np.ndarray | None, DrawStats]:
    """Index rows ``(n_samples, d)``, with smoothing kernel noise in bandwidth units, and the leaf-choice counts.

    Row ``r`` is the sample of index ``offset + r``: its noise is hashed from that index.
    """
    n, d = plan.table.n, plan.table.d
    backend = "cpu" if jax.default_backend() == "cpu" else "other"
    mesh = batch_mesh(devices)
    n_dev = mesh.devices.size
    if chunk_size is None:
        chunk = _SAMPLE_BLOCK[backend] * n_dev
    else:
        chunk = _positive_int(chunk_size, "chunk_size")
    # A power of two for small requests, so that nearby sample counts share one compiled kernel.
    chunk = pad_to_multiple(min(chunk, 1 << (n_samples - 1).bit_length()), n_dev)
    leaf = _LEAF
    if row_chunk_size is None:
        row_block = min(_ROW_BLOCK[backend], 1 << max(1, (n - 1).bit_length()))
    else:
        row_block = _positive_int(row_chunk_size, "row_chunk_size")
    row_block = pad_to_multiple(row_block, leaf)  # whole leaves per block
    n_leaves = None
    n_cand = _CANDIDATE_LEAVES
    if neighbors is not None:
        n_leaves = -(-_positive_int(neighbors, "neighbors") // leaf)
        if n_leaves * leaf >= n:
            n_leaves = None  # every row is a candidate: the exact sampler
    n_pad = bucket(n, row_block)  # nearby row counts share a compiled kernel
    x = np.zeros((n_pad, d), np.float32)
    x[:n] = _scaled_values(plan)
    smooth = smoothing > 0
    sharding = batch_sharding(mesh) if n_dev > 1 else None
    fn = partial(
        _draw_chunk,
        kernel=plan.kernel,
        row_block=row_block,
        leaf=leaf,
        n_leaves=n_leaves,
        n_cand=n_cand,
        smooth=smooth,
        mesh=mesh if n_dev > 1 else None,
    )
    args = (
        to_device(x),
        to_device(plan.table.is_categorical),
        tuple(to_device(a) for a in _steps(plan, x, leaf)),
        to_device(smoothing, jnp.float32),
        to_device(n, jnp.int32),
    )

    index_rows = np.zeros((n_samples, d), np.int32)
    noise = np.zeros((n_samples, d), np.float32) if smooth else None
    pending = np.arange(n_samples, dtype=np.int64)
    drawn = accepted = 0
    stage_counts = np.zeros(STAGE_FULL + 1, np.int64)
    for round_ in range(_MAX_ROUNDS):
        col_keys = _column_keys(jax.random.fold_in(key, round_), d=d)
        dead = []

        def collect(ids, out):
            nonlocal accepted
            idx, alive, eps, stages = (np.asarray(a) for a in out)
            m = ids.size
            stage_counts[:] += np.bincount(stages[:m].ravel(), minlength=stage_counts.size)
            alive = alive[:m]
            index_rows[ids[alive]] = idx[:m][alive]
            if smooth:
                noise[ids[alive]] = eps[:m][alive]
            accepted += int(alive.sum())
            dead.append(ids[~alive])

        in_flight = None
        for start in range(0, pending.size, chunk):
            ids = pending[start : start + chunk]
            padded = np.zeros(chunk, np.int32)
            padded[: ids.size] = ids + offset
            padded[ids.size :] = ids[0] + offset
            device_ids = jax.device_put(padded, sharding) if sharding is not None else to_device(padded)
            # Dispatch the next chunk before copying the previous one back: no idle device.
            out = fn(col_keys, device_ids, *args)
            if in_flight is not None:
                collect(*in_flight)
            in_flight = (ids, out)
        if in_flight is not None:
            collect(*in_flight)
        drawn += pending.size
        pending = np.concatenate(dead)
        if pending.size == 0:
            return index_rows, noise, DrawStats(*(int(c) for c in stage_counts[STAGE_BOUNDS:]))
    rate = accepted / drawn
    raise NoConditionalError(
        f"{pending.size} of {n_samples} samples still reach, after {_MAX_ROUNDS} redraws, a variable whose kernel "
        f"conditional is zero for every training row (only {rate:.3g} of draws have one). This happens with "
        "exact-match categorical or compact (epanechnikov) kernels when the sampled pillow values are never seen "
        "together in the data. Use kernel='gaussian', raise bandwidth_scale, or merge rare categories"
    )


def sample(
    data: pd.DataFrame,
    graph: GraphLike,
    n_samples: int,
    *,
    seed: int | None = None,
    key: jax.Array | None = None,
    kernel: str = "gaussian",
    bandwidth: BandwidthSpec = "normal_reference",
    bandwidth_scale: float = 1.0,
    categorical: Iterable[Hashable] | None = None,
    smoothing: float = 0.0,
    neighbors: int | None = None,
    chunk_size: int | None = None,
    row_chunk_size: int | None = None,
    devices: int | Sequence[jax.Device] | None = None,
    return_indices: bool = False,
    offset: int = 0,
    out: str | os.PathLike | None = None,
    part_rows: int | None = None,
    estimator=None,
) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray] | ParquetSample:
    """Draw samples from the kernel-conditional factorization of ``graph`` (ancestral sampling).

    In topological order a root takes a uniformly chosen training value and any other
    variable takes the value of training row ``i`` with probability ``w_i(z)``, the kernel
    conditional given the sample's Markov-pillow values ``z`` that :func:`causalda_jax.augment`
    uses as weights. The samples are thus distributed as ``augment(..., threshold=0)``'s rows
    weighted by their weights. A sample that reaches a pillow configuration where every kernel
    value is zero (exact-match categoricals, the compact epanechnikov kernel) has no conditional;
    it is redrawn, as ``augment`` drops such rows and the weights are renormalised.

    A draw picks a leaf of 128 training rows (a k-d tree on the pillow) by its kernel mass, then
    a row inside it, both by Gumbel-max with noise hashed from (key, variable, sample, leaf or
    row): results depend on ``seed``/``key`` only, not on ``chunk_size``, ``row_chunk_size`` or
    ``devices``. Leaves whose kernel bounds show they cannot be chosen are skipped without
    changing any draw; ``out.attrs["sampling"]`` counts how the leaf choices were decided
    (``by_bounds``, ``by_candidates``, ``full_scans``: the fallback that scores every leaf).
    Memory is bounded by the blocks (``chunk_size × row_chunk_size``) plus the
    ``(n_samples, d)`` output. Scores are float32.

    With ``out`` the rows go to partitioned parquet in bounded memory instead
    (:mod:`causalda_jax._stream`). In a ``jax.distributed`` job
    (:func:`causalda_jax.initialize_processes`) with ``devices=None``, each process draws and
    returns (or writes) its contiguous share of the samples; the shares together are the
    one-process result.

    Args:
        data: training table; its columns must be exactly the graph's nodes.
        graph: a CausalGraph, a networkx DiGraph, a JSON path or a dict.
        n_samples: number of rows to draw.
        seed: non-negative int (default 0 when ``key`` is not given); ``seed=s`` is
            ``key=jax.random.key(s)``.
        key: a jax PRNG key, instead of ``seed``.
        kernel: ``"gaussian"`` or ``"epanechnikov"`` for continuous columns.
        bandwidth: ``"normal_reference"``, ``"silverman"``, ``"scott"``, a float, or a dict per column.
        bandwidth_scale: τ, multiplies every bandwidth.
        categorical: extra columns to treat as categorical (exact-match kernel).
        smoothing: ``s ≥ 0``; with ``s > 0`` each continuous value gets kernel noise of scale
            ``s·h`` (smoothed bootstrap; ``s = 1`` samples the kernel density itself) and
            descendants condition on the noisy value. Integer columns then become float64.
        neighbors: if given, each conditional keeps only the training rows of the
            ``⌈neighbors / 128⌉`` k-d tree leaves (128 rows each) whose bounding boxes allow the
            largest kernel mass, and samples among them: an approximation that skips the kernel
            pass over the other rows. Its error (the kernel mass left out) is measured by
            ``python -m benchmarks.sample_large``.
        chunk_size: samples per compiled chunk, over all devices (default 1024 per CPU device,
            32768 per accelerator).
        row_chunk_size: training rows per block, rounded up to whole leaves of 128 (default
            2048 on CPU, 4096 on an accelerator).
        devices: ``None`` for all devices of the default backend, an int for the first ``k``,
            or a sequence of devices; the sample axis is split across them.
        return_indices: also return the ``(n_samples, d)`` training-row index of every value.
        offset: index of the first sample: ``sample(..., n, offset=k)`` is rows ``k`` to
            ``k + n - 1`` of a larger draw with the same seed.
        out: a directory to write the samples to as parquet parts, holding one part in
            memory at a time; rerun with the same arguments, it skips the finished parts.
        part_rows: rows per parquet part with ``out`` (default 2**20).
        estimator: the conditional estimator of every variable: ``None`` or ``"kernel"`` (the
            kernel conditional above), a name in :data:`causalda_jax.estimators.ESTIMATORS`
            (``"anm"``, ``"mdn"``, ...), an estimator object, or a dict ``{node: name or
            object}`` (other nodes keep the kernel). Any non-kernel choice fits one conditional
            per variable on (pillow → variable) and samples ancestrally
            (:mod:`causalda_jax.estimators`); ``smoothing``, ``neighbors`` and
            ``return_indices`` then do not apply.

    Returns:
        A DataFrame with the training columns, order, dtypes and categories (a process's share
        is indexed by its positions in the whole draw; ``attrs["sampling"]`` holds
        :class:`DrawStats` as a dict), and with ``return_indices`` the index rows as a second
        item; with ``out``, the :class:`causalda_jax.ParquetSample` written.

    Raises:
        NoConditionalError: samples keep reaching a pillow configuration with no conditional.

    Example:
        >>> import pandas as pd, causalda_jax as cda
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0.0, 1.1, 1.9, 3.2]})
        >>> out = cda.sample(df, {"directed": [["x", "y"]]}, 5, seed=0)
        >>> out.shape, bool(out["x"].isin(df["x"]).all())
        ((5, 2), True)
    """
    if estimator is not None:
        from .estimators._ancestral import only_kernel, sample_with_estimators

        if not only_kernel(estimator, graph):
            if out is not None or offset:
                raise ValueError(
                    "out= and offset= stream the kernel sampler only; with a non-kernel estimator, draw in memory "
                    "(out=None, offset=0)"
                )
            return sample_with_estimators(data, graph, n_samples, estimator, key=_as_key(seed, key), kernel=kernel,
                                          bandwidth=bandwidth, bandwidth_scale=bandwidth_scale, categorical=categorical,
                                          smoothing=smoothing, neighbors=neighbors, return_indices=return_indices)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or int(n_samples) < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    n_samples = int(n_samples)
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or int(offset) < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
    offset = int(offset)
    if offset + n_samples >= 2**31:
        raise ValueError(
            f"offset + n_samples must be below 2**31, got {offset + n_samples}; "
            "draw in several calls with different seeds"
        )
    try:
        smoothing = float(smoothing)
    except (TypeError, ValueError):
        raise ValueError(f"smoothing must be a number ≥ 0, got {smoothing!r}") from None
    if not (math.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(f"smoothing must be a finite number ≥ 0, got {smoothing}; 0 draws training values only")
    root_key = _as_key(seed, key)
    options = dict(
        kernel=kernel,
        bandwidth=bandwidth,
        bandwidth_scale=bandwidth_scale,
        categorical=categorical,
        smoothing=smoothing,
        neighbors=neighbors,
        chunk_size=chunk_size,
        row_chunk_size=row_chunk_size,
    )
    if out is not None:
        if return_indices:
            raise ValueError("return_indices cannot be written to out; drop one of them")
        from ._stream import write_sample  # imports this module

        return write_sample(
            data, graph, n_samples, out, key=root_key, offset=offset, part_rows=part_rows, devices=devices, **options
        )
    if devices is None and jax.process_count() > 1:
        from ._distributed import process_share

        start, stop = process_share(n_samples, data, graph, root_key, offset=offset, **options)
        local = jax.local_devices()
        # An empty share (fewer samples than processes) draws one sample and keeps none.
        drawn = sample(
            data, graph, max(stop - start, 1), key=root_key, offset=offset + start, devices=local,
            return_indices=True, **options,
        )
        frame, index_rows = drawn[0].iloc[: stop - start], drawn[1][: stop - start]
        frame.index = pd.RangeIndex(start, stop)
        return (frame, index_rows) if return_indices else frame
    plan = make_plan(
        data,
        graph,
        threshold=0.0,
        normalize_threshold=False,
        kernel=kernel,
        bandwidth=bandwidth,
        bandwidth_scale=bandwidth_scale,
        categorical=categorical,
    )
    # Peak host memory per sampled value: int32 index + float32 noise + the float64 output
    # column + one copy when the frame is written out.
    per_row = plan.table.d * (20 + 4 * (smoothing > 0))
    check_memory(n_samples * per_row, f"sampling {n_samples:,} rows × {plan.table.d} columns",
                 "draw fewer samples, or stream them to a directory of parquet parts with out=DIR")
    index_rows, noise, stats = _draw(
        plan,
        n_samples,
        root_key,
        smoothing=smoothing,
        neighbors=neighbors,
        chunk_size=chunk_size,
        row_chunk_size=row_chunk_size,
        devices=devices,
        offset=offset,
    )
    frame = frame_from_rows(data, index_rows)
    if noise is not None:
        for j, col in enumerate(data.columns):
            if not plan.table.is_categorical[j]:
                base = data[col].to_numpy(np.float64)[index_rows[:, j]]
                frame[col] = base + smoothing * plan.h[j] * noise[:, j].astype(np.float64)
    frame.attrs["sampling"] = stats._asdict()
    if return_indices:
        return frame, index_rows
    return frame
