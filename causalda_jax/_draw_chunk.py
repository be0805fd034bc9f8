"""One compiled call of the sampler: every variable, in topological order, for a chunk of samples.

:func:`draw_chunk` scans over the variables. Each step reads the samples' values on the
variable's pillow, chooses a training row (a uniform one for a root, a leaf by kernel mass then
a row in it otherwise: :mod:`causalda_jax._leaf_choice`) and writes its value, smoothed if
asked, for the descendants to condition on. All randomness comes from
:mod:`causalda_jax._noise`, keyed by the sample's index, so a chunk may hold any samples and be
split over any devices.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec

from ._custom_types import Array, Bool, Float, Int
from ._export_cache import cached_jit
from ._leaf_choice import (
    STAGE_FULL,
    STAGE_NONE,
    ChoiceConfig,
    LeafBoxes,
    Pillow,
    choose_in_leaf,
    choose_leaf_exact,
    choose_leaf_pruned,
    choose_leaf_truncated,
)
from ._noise import SampleWords, round_keys, sample_words
from ._sharding import BATCH_AXIS

__all__ = ["BlockDraw", "DrawInputs", "Steps", "draw_chunk"]


class Steps(NamedTuple):
    """Per variable in topological order (leading axis), what its draw needs.

    Attributes:
        column: the variable's column.
        pillow: its pillow's columns, padded to a fixed width.
        mask: which of those are pillow columns rather than padding.
        is_root: whether the pillow is empty.
        perm: the training rows in k-d tree leaf order on the pillow.
        lo, hi: each leaf's bounding box on the pillow (unbounded on padding columns).
        mean, var: each leaf's column means and variances on the pillow.
    """

    column: Int[Array, " d"]
    pillow: Int[Array, "d c"]
    mask: Bool[Array, "d c"]
    is_root: Bool[Array, " d"]
    perm: Int[Array, "d n_pad"]
    lo: Float[Array, "d l c"]
    hi: Float[Array, "d l c"]
    mean: Float[Array, "d l c"]
    var: Float[Array, "d l c"]


class DrawInputs(NamedTuple):
    """The training data of a draw, on the device(s), shared by every chunk and redraw round.

    Attributes:
        x: ``(n_pad, d)`` training values in bandwidth units, padded to whole row blocks.
        is_cat: ``(d,)`` categorical columns.
        steps: the per-variable :class:`Steps`.
        smoothing: the smoothing scale ``s`` (0 without smoothing).
        n_rows: the number of real training rows.
    """

    x: Float[Array, "n_pad d"]
    is_cat: Bool[Array, " d"]
    steps: Steps
    smoothing: Float[Array, ""]
    n_rows: Int[Array, ""]


class BlockContext(NamedTuple):
    """What every variable's draw in a chunk reads: the training data, keys and per-sample words."""

    inputs: DrawInputs
    col_keys: Int[Array, "d 2 2"]
    s: Int[Array, " b"]
    words: SampleWords


class Partial(NamedTuple):
    """The scan's carry: the samples drawn so far.

    Attributes:
        vals: ``(b, d)`` values in bandwidth units (smoothed where smoothing is on).
        idx: ``(b, d)`` training row of each value.
        alive: ``(b,)`` whether every variable so far had a kernel conditional.
    """

    vals: Float[Array, "b d"]
    idx: Int[Array, "b d"]
    alive: Bool[Array, " b"]


class Choice(NamedTuple):
    """One variable's choice for every sample: training row, has-conditional flag, leaf-choice stage."""

    pick: Int[Array, " b"]
    ok: Bool[Array, " b"]
    stage: Int[Array, " b"]


class BlockDraw(NamedTuple):
    """A chunk's draws: index rows, has-conditional flags, smoothing noise and leaf-choice stages.

    ``noise`` is ``(b, d)`` with smoothing (0 on categorical columns) and ``(b, 0)`` without;
    ``stages`` is ``(b, d)`` over the variables in topological order.
    """

    index_rows: Int[Array, "b d"]
    alive: Bool[Array, " b"]
    noise: Float[Array, "b _"]
    stages: Int[Array, "b d"]


def _pillow_view(step: Steps, vals: Float[Array, "b d"], inputs: DrawInputs) -> Pillow:
    """The variable's pillow: the samples' values on it and the training rows' in leaf order."""
    z = vals[:, step.pillow]
    xs = inputs.x[:, step.pillow][step.perm]
    # Padding columns get an infinite bandwidth: (z - x) / h = 0 adds log K = 0.
    hp = jnp.where(step.mask, 1.0, jnp.inf).astype(jnp.float32)
    cp = inputs.is_cat[step.pillow] & step.mask
    return Pillow(z, xs, hp, cp, step.mask)


def _root_choice(root_pick: Int[Array, " b"]) -> Choice:
    b = root_pick.shape[0]
    return Choice(root_pick, jnp.ones(b, bool), jnp.full(b, STAGE_NONE, jnp.int8))


def _child_choice(
    k_leaf: Int[Array, " 2"], k_row: Int[Array, " 2"], s, pillow: Pillow, step: Steps, n_rows, config: ChoiceConfig
) -> Choice:
    """A leaf by its kernel mass (exact, pruned or truncated), then a row in it."""
    b = s.shape[0]
    if pillow.xs.shape[0] == config.leaf:
        # One leaf holds every row: its choice is certain, only the row is drawn (the same noise
        # as the two-stage draw).
        best, pos = choose_in_leaf(k_row, s, pillow, None, n_rows, config)
        return Choice(step.perm[pos], best > -jnp.inf, jnp.full(b, STAGE_NONE, jnp.int8))
    boxes = LeafBoxes(step.lo, step.hi, step.mean, step.var)
    if config.n_leaves is not None:
        leaf_id, ok = choose_leaf_truncated(k_leaf, s, pillow, boxes, n_rows, config)
        stage = jnp.full(b, STAGE_NONE, jnp.int8)
    elif config.n_cand:
        pruned = config._replace(n_cand=min(config.n_cand, step.lo.shape[0] - 1))
        leaf_id, ok, stage = choose_leaf_pruned(k_leaf, s, pillow, boxes, n_rows, pruned)
    else:
        leaf_id, ok = choose_leaf_exact(k_leaf, s, pillow, n_rows, config)
        stage = jnp.full(b, STAGE_FULL, jnp.int8)
    _, pos = choose_in_leaf(k_row, s, pillow, leaf_id, n_rows, config)
    return Choice(step.perm[pos], ok, stage)


def _draw_variable(
    carry: Partial, step: Steps, *, ctx: BlockContext, config: ChoiceConfig, smooth: bool
) -> tuple[Partial, Int[Array, " b"]]:
    """One scan step: draw the variable ``step.column`` for every sample of the chunk."""
    inputs, j = ctx.inputs, step.column
    pillow = _pillow_view(step, carry.vals, inputs)
    k_leaf, k_row = ctx.col_keys[j, 0], ctx.col_keys[j, 1]
    choice = jax.lax.cond(
        step.is_root,
        lambda: _root_choice(ctx.words.root_pick[:, j]),
        lambda: _child_choice(k_leaf, k_row, ctx.s, pillow, step, inputs.n_rows, config),
    )
    value = inputs.x[choice.pick, j]
    if smooth:
        # Descendants condition on the smoothed value: ancestral sampling from the KDE joint.
        value = value + jnp.where(inputs.is_cat[j], 0.0, inputs.smoothing * ctx.words.noise[:, j])
    drawn = Partial(carry.vals.at[:, j].set(value), carry.idx.at[:, j].set(choice.pick), carry.alive & choice.ok)
    return drawn, choice.stage


def _draw_block(
    col_keys: Int[Array, "d 2 2"], ids: Int[Array, " b"], inputs: DrawInputs, *, config: ChoiceConfig, smooth: bool
) -> BlockDraw:
    """Draw every variable for the samples ``ids``.

    ``col_keys`` holds two raw keys per column (leaf choice, row choice); all randomness is a
    hash of (key, sample, counter).
    """
    b, d = ids.shape[0], inputs.x.shape[1]
    s = ids.astype(jnp.uint32)
    # Words that do not depend on the choices, drawn for every column at once.
    words = sample_words(col_keys, s, inputs.n_rows, kernel=config.kernel, smooth=smooth)
    step = partial(_draw_variable, ctx=BlockContext(inputs, col_keys, s, words), config=config, smooth=smooth)
    init = Partial(jnp.zeros((b, d), jnp.float32), jnp.zeros((b, d), jnp.int32), jnp.ones(b, bool))
    drawn, stages = jax.lax.scan(step, init, inputs.steps)
    noise = jnp.where(inputs.is_cat, 0.0, words.noise) if smooth else jnp.zeros((b, 0), jnp.float32)
    return BlockDraw(drawn.idx, drawn.alive, noise, stages.T)


@partial(cached_jit, static_argnames=("config", "smooth", "mesh"))
def draw_chunk(key_data, round_, ids, inputs: DrawInputs, *, config: ChoiceConfig, smooth: bool, mesh) -> BlockDraw:
    """:func:`_draw_block` under the raw key ``key_data`` folded with the redraw round ``round_``,
    compiled; with a ``mesh``, the samples are split across its devices."""
    col_keys = round_keys(key_data, round_, d=inputs.x.shape[1])
    body = partial(_draw_block, config=config, smooth=smooth)
    if mesh is None:
        return body(col_keys, ids, inputs)
    rep, split = PartitionSpec(), PartitionSpec(BATCH_AXIS)
    sharded = jax.shard_map(body, mesh=mesh, in_specs=(rep, split, rep), out_specs=split, check_vma=False)
    return sharded(col_keys, ids, inputs)
