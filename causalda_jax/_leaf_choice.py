"""One variable's training row for a batch of samples: Gumbel-max over leaves by kernel mass, then over rows.

The training rows are in k-d tree leaf order on the variable's pillow (:mod:`causalda_jax._leaves`).
A leaf is chosen with probability proportional to its kernel mass, by one of three routes that
share the same noise (:mod:`causalda_jax._noise`):

- :func:`choose_leaf_exact`: every leaf's mass, streamed over blocks of rows (the full scan);
- :func:`choose_leaf_pruned`: the same choice, found from the leaves' kernel bounds where they
  suffice, from a few candidates' exact masses, or by the full scan as a fallback;
- :func:`choose_leaf_truncated`: the approximation that scores only the leaves with the largest
  mass bounds.

:func:`choose_in_leaf` then picks a row of the chosen leaf by its kernel value. The product of
the two choices is the kernel conditional ``w_i(z)``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._custom_types import Array, Bool, Float, Int
from ._kernels import _log_term, log_box_bound, log_kernel_matrix
from ._noise import gumbel, materialized, pair_gumbels
from ._sharding import pad_to_multiple

__all__ = [
    "STAGE_NONE",
    "STAGE_BOUNDS",
    "STAGE_CANDIDATES",
    "STAGE_FULL",
    "ChoiceConfig",
    "LeafBoxes",
    "Pillow",
    "choose_in_leaf",
    "choose_leaf_exact",
    "choose_leaf_pruned",
    "choose_leaf_truncated",
    "leaf_bounds",
    "leaf_lower_bounds",
]

# The pruned leaf choice's stages, as recorded per (sample, variable).
STAGE_NONE, STAGE_BOUNDS, STAGE_CANDIDATES, STAGE_FULL = 0, 1, 2, 3


class ChoiceConfig(NamedTuple):
    """Static settings of a leaf choice (hashable: part of the compiled kernel's key).

    Attributes:
        kernel: ``"gaussian"`` or ``"epanechnikov"``.
        leaf: training rows per leaf (even: rows are hashed in pairs).
        row_block: training rows per block of the full scan, a multiple of ``leaf``.
        n_leaves: leaves scored by the truncated sampler, or ``None`` for the exact sampler.
        n_cand: most leaves whose exact masses the pruned choice computes (0: always the full scan).
        cand_group: samples per group of the pruned choice's candidate stage.
        full_group: samples per group of its full-scan stage.
    """

    kernel: str
    leaf: int
    row_block: int
    n_leaves: int | None
    n_cand: int
    cand_group: int
    full_group: int


class Pillow(NamedTuple):
    """What a variable conditions on, in bandwidth units, its columns padded to a fixed width.

    Attributes:
        z: ``(b, c)`` the samples' values on the pillow.
        xs: ``(n_pad, c)`` the training rows' pillow values, in leaf order.
        hp: ``(c,)`` 1 for a pillow column, ``inf`` for padding (``(z - x) / h = 0`` adds ``log K = 0``).
        cp: ``(c,)`` whether the column is categorical (exact match).
        mask: ``(c,)`` whether the column is a pillow column rather than padding.
    """

    z: Float[Array, "b c"]
    xs: Float[Array, "n_pad c"]
    hp: Float[Array, " c"]
    cp: Bool[Array, " c"]
    mask: Bool[Array, " c"]


class LeafBoxes(NamedTuple):
    """Per leaf: bounding box and column moments of its rows on the pillow (``(l, c)`` each)."""

    lo: Float[Array, "l c"]
    hi: Float[Array, "l c"]
    mean: Float[Array, "l c"]
    var: Float[Array, "l c"]


def _max_argmax(score: Float[Array, "b t"], index: Int[Array, "b t"]) -> tuple[Float[Array, " b"], Int[Array, " b"]]:
    """Row-wise (max, index of the max) in one variadic reduction; ties go to the lower index."""

    def pick(a, b):
        a_v, a_i = a
        b_v, b_i = b
        take_b = (b_v > a_v) | ((b_v == a_v) & (b_i < a_i))
        return jnp.where(take_b, b_v, a_v), jnp.where(take_b, b_i, a_i)

    # int32 positions whatever x64 says: the reduction needs one dtype for operand and init.
    init = (jnp.asarray(-jnp.inf, score.dtype), jnp.int32(jnp.iinfo(jnp.int32).max))
    return jax.lax.reduce((score, index.astype(jnp.int32)), init, pick, (1,))


def _merge(best, arg, new_best, new_arg):
    """Keep the larger score; on a tie the lower row index, so blocking never changes the choice."""
    take = (new_best > best) | ((new_best == best) & (new_arg < arg))
    return jnp.where(take, new_best, best), jnp.where(take, new_arg, arg)


def _leaf_log_mass(log_k: Float[Array, "b t"], leaf: int) -> Float[Array, "b l"]:
    """Log-sum-exp of the kernel values of each leaf (``-inf`` for a leaf with none)."""
    return jax.nn.logsumexp(log_k.reshape(log_k.shape[0], -1, leaf), axis=-1)


def _row_log_kernel(z: Float[Array, "b c"], xg: Float[Array, "b t c"], hp, cp, kernel: str) -> Float[Array, "b t"]:
    """``log K`` of each sample against its own ``t`` gathered rows."""
    return jax.vmap(lambda zi, xi: log_kernel_matrix(zi[None], xi, hp, cp, kernel)[0])(z, xg)


def _gathered_log_kernel(pillow: Pillow, pos: Int[Array, "b t"], n_rows, kernel: str) -> Float[Array, "b t"]:
    """``log K`` of each sample against the leaf-order rows ``pos`` (``-inf`` past the real rows)."""
    return jnp.where(pos < n_rows, _row_log_kernel(pillow.z, pillow.xs[pos], pillow.hp, pillow.cp, kernel), -jnp.inf)


def _leaf_rows(leaf_ids: Int[Array, "b k"], leaf: int) -> Int[Array, "b k*leaf"]:
    """Leaf-order positions of the rows of the leaves ``leaf_ids``, leaf after leaf."""
    return (leaf_ids[:, :, None] * leaf + jnp.arange(leaf, dtype=jnp.int32)).reshape(leaf_ids.shape[0], -1)


def _choose_pairs(k_row, s, log_k_even, log_k_odd, m, n_rows):
    """Gumbel-max over rows ``2m`` and ``2m + 1`` given their ``log K``: (best score, position).

    The two words of the hash of ``(s, m)`` go to the even and the odd row: one cipher call per
    two rows, scored as two aligned arrays.
    """
    m = jnp.broadcast_to(m, log_k_even.shape)
    zeros = jnp.zeros(m.shape, jnp.float32)
    g0, g1 = materialized(lambda: pair_gumbels(k_row, s, m), (zeros, zeros), jnp.minimum(n_rows, 1))
    even = _max_argmax(log_k_even + g0, 2 * m)
    odd = _max_argmax(log_k_odd + g1, 2 * m + 1)
    return _merge(*even, *odd)


def choose_in_leaf(
    k_row: Int[Array, " 2"], s: Int[Array, " b"], pillow: Pillow, leaf_id: Int[Array, " b"] | None, n_rows, config
) -> tuple[Float[Array, " b"], Int[Array, " b"]]:
    """Gumbel-max among the rows of leaf ``leaf_id`` of each sample: (best score, leaf-order position).

    ``leaf_id=None`` when one leaf holds every row: its rows are then the same for every sample
    and are sliced rather than gathered.
    """
    z, xs, hp, cp = pillow.z, pillow.xs, pillow.hp, pillow.cp
    leaf, kernel = config.leaf, config.kernel
    if leaf_id is None:
        even = 2 * jnp.arange(leaf // 2, dtype=jnp.int32)

        def log_k(pos):
            return jnp.where(pos < n_rows, log_kernel_matrix(z, xs[pos], hp, cp, kernel), -jnp.inf)

    else:
        even = leaf_id[:, None].astype(jnp.int32) * leaf + 2 * jnp.arange(leaf // 2, dtype=jnp.int32)

        def log_k(pos):
            return _gathered_log_kernel(pillow, pos, n_rows, kernel)

    return _choose_pairs(k_row, s, log_k(even), log_k(even + 1), even // 2, n_rows)


def choose_leaf_exact(
    k_leaf: Int[Array, " 2"], s: Int[Array, " b"], pillow: Pillow, n_rows, config: ChoiceConfig
) -> tuple[Int[Array, " b"], Bool[Array, " b"]]:
    """Streaming Gumbel-max over every leaf, scored by its kernel mass: (leaf, has_conditional).

    One pass over the training rows in blocks of ``row_block`` (a multiple of ``leaf``): the
    kernel values of a block are reduced to leaf masses at once, so no ``samples × rows`` array
    exists, and the noise costs one cipher call per (sample, leaf).
    """
    b = s.shape[0]
    row_block, leaf = config.row_block, config.leaf
    per_block = row_block // leaf

    def block(i, carry):
        best, arg = carry
        xb = jax.lax.dynamic_slice_in_dim(pillow.xs, i * row_block, row_block)
        pos = i * row_block + jnp.arange(row_block, dtype=jnp.int32)
        log_k = jnp.where(pos < n_rows, log_kernel_matrix(pillow.z, xb, pillow.hp, pillow.cp, config.kernel), -jnp.inf)
        ids = i * per_block + jax.lax.broadcasted_iota(jnp.int32, (b, per_block), 1)
        score = _leaf_log_mass(log_k, leaf) + gumbel(k_leaf, s, ids)
        return _merge(best, arg, *_max_argmax(score, ids))

    init = (jnp.full(b, -jnp.inf, jnp.float32), jnp.zeros(b, jnp.int32))
    # A traced trip count: XLA cannot unroll a one-block loop into a fused, slower form.
    n_blocks = (n_rows + row_block - 1) // row_block
    best, arg = jax.lax.fori_loop(0, n_blocks, block, init)
    return arg, best > -jnp.inf


def leaf_bounds(z: Float[Array, "b c"], lo: Float[Array, "l c"], hi: Float[Array, "l c"], hp, cp, kernel: str):
    """An upper bound of ``log K`` over each leaf's box: the kernel at the box's nearest point.

    An empty box (``lo = +inf``, ``hi = -inf``) has its nearest point at infinity: ``-inf``.
    """
    return log_box_bound(z, lo, hi, hp, cp, kernel)


def leaf_lower_bounds(pillow: Pillow, boxes: LeafBoxes, kernel: str) -> Float[Array, "b l"]:
    """A lower bound of each leaf's mean ``log K`` over its rows (so ``log count +`` it bounds its log-mass).

    Gaussian: the mean of ``-u²/2`` is exact from the leaf's column means and variances
    (Jensen: ``log Σ exp a_i ≥ log count + mean a_i``). Epanechnikov: the kernel at the box's
    farthest corner. A categorical column gives 0 only when the box is the sample's value
    alone. Padding columns (``mask`` false, unbounded box) give 0; an empty box gives ``-inf``.
    """
    z, hp, cp, mask = pillow.z, pillow.hp, pillow.cp, pillow.mask
    lo, hi = boxes.lo, boxes.hi
    # One column at a time, as (b, l) arrays: a (b, l, c) broadcast reduced over its short
    # last axis is many times slower on XLA's CPU backend.
    total = jnp.zeros((z.shape[0], lo.shape[0]), jnp.result_type(z, lo, hp))
    for j in range(z.shape[1]):
        zj, lo_j, hi_j = z[:, j, None], lo[None, :, j], hi[None, :, j]
        if kernel == "gaussian":
            cont = -0.5 * ((zj - boxes.mean[None, :, j]) ** 2 + boxes.var[None, :, j]) / (hp[j] * hp[j])
            cat = jnp.where((lo_j == hi_j) & (zj == lo_j), 0.0, -jnp.inf)
            total = total + jnp.where(cp[j], cat, jnp.where(mask[j], cont, 0.0))
        else:
            far = jnp.where(jnp.abs(zj - lo_j) > jnp.abs(zj - hi_j), lo_j, hi_j)
            total = total + _log_term(zj - jnp.where(mask[j], far, zj), hp[j], cp[j], kernel)
    if kernel == "gaussian":
        total = jnp.where((lo <= hi).all(axis=-1)[None], total, -jnp.inf)
    return total


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
        return tuple(o.at[idx].set(v.astype(o.dtype), mode="drop") for o, v in zip(out, values))

    trips = (need.sum(dtype=jnp.int32) + size - 1) // size
    return jax.lax.fori_loop(0, trips, group, out)


def _first_members(member: Bool[Array, "g l"], k: int) -> Int[Array, "g k"]:
    """The first ``k`` leaves of each row of ``member``, in order (``l`` in unused slots).

    ``k`` passes of a min-reduction: on XLA's CPU backend a cumsum over the row (to scatter each
    member to its rank) costs several times more.
    """
    n_leaves = member.shape[1]
    iota = jax.lax.broadcasted_iota(jnp.int32, member.shape, 1)
    found = []
    for _ in range(k):
        first = jnp.min(jnp.where(member, iota, n_leaves), axis=1)
        found.append(first)
        member = member & (iota != first[:, None])
    return jnp.stack(found, axis=1)


def choose_leaf_pruned(
    k_leaf: Int[Array, " 2"], s: Int[Array, " b"], pillow: Pillow, boxes: LeafBoxes, n_rows, config: ChoiceConfig
) -> tuple[Int[Array, " b"], Bool[Array, " b"], Int[Array, " b"]]:
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
    kernel, leaf, n_cand = config.kernel, config.leaf, config.n_cand
    n_leaves = boxes.lo.shape[0]
    ids = jax.lax.broadcasted_iota(jnp.int32, (b, n_leaves), 1)
    g = materialized(lambda: gumbel(k_leaf, s, ids), jnp.zeros((b, n_leaves), jnp.float32), jnp.minimum(n_rows, 1))
    log_count = _log_counts(n_leaves, n_rows, leaf)
    upper = leaf_bounds(pillow.z, boxes.lo, boxes.hi, pillow.hp, pillow.cp, kernel) + log_count + g
    least = jnp.max(leaf_lower_bounds(pillow, boxes, kernel) + log_count + g, axis=1)
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
        cand = _first_members(member[idx], n_cand)  # the members, in leaf order; n_leaves past the last
        valid = cand < n_leaves
        cand = jnp.where(valid, cand, 0)
        log_k = _gathered_log_kernel(pillow._replace(z=pillow.z[idx]), _leaf_rows(cand, leaf), n_rows, kernel)
        score = jnp.where(valid, _leaf_log_mass(log_k, leaf) + gumbel(k_leaf, s[idx], cand), -jnp.inf)
        best, pick = _max_argmax(score, cand)
        return pick, best > -jnp.inf

    leaf_id, ok = _compacted(stage == STAGE_CANDIDATES, config.cand_group, candidates, (leaf_id, ok))

    def full(idx):
        return choose_leaf_exact(k_leaf, s[idx], pillow._replace(z=pillow.z[idx]), n_rows, config)

    leaf_id, ok = _compacted(stage == STAGE_FULL, config.full_group, full, (leaf_id, ok))
    return leaf_id, ok, stage


def choose_leaf_truncated(
    k_leaf: Int[Array, " 2"], s: Int[Array, " b"], pillow: Pillow, boxes: LeafBoxes, n_rows, config: ChoiceConfig
) -> tuple[Int[Array, " b"], Bool[Array, " b"]]:
    """Gumbel-max over the ``n_leaves`` leaves with the largest mass bound: (leaf, has_conditional).

    A leaf's bound is its row count times the kernel at its box's nearest point (ties to the
    lower leaf). The candidates' masses are exact and their noise is the exact sampler's, so
    wherever the exact sampler's leaf is a candidate both choose the same leaf.
    """
    leaf = config.leaf
    ids_all = jnp.arange(boxes.lo.shape[0], dtype=jnp.int32)
    count = jnp.clip(n_rows - ids_all * leaf, 0, leaf).astype(jnp.float32)
    bound = leaf_bounds(pillow.z, boxes.lo, boxes.hi, pillow.hp, pillow.cp, config.kernel) + jnp.log(count)
    _, ids = jax.lax.top_k(bound, config.n_leaves)  # ties to the lower leaf
    log_k = _gathered_log_kernel(pillow, _leaf_rows(ids, leaf), n_rows, config.kernel)
    score = _leaf_log_mass(log_k, leaf) + gumbel(k_leaf, s, ids)
    best, arg = _max_argmax(score, ids)
    return arg, best > -jnp.inf
