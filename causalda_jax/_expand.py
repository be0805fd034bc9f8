"""The compiled expansion steps of the augmentation engine.

A step extends every kept row by every training value of one variable, prunes the candidates
lighter than θ_eff and compacts the survivors into a fixed-capacity buffer. Rows are stored as
training-row indices. The training table is padded to a bucket of rows (``Training``), so shapes
depend only on (capacity, chunk, row bucket, d, pillow size): one compiled step serves every
chunk, every variable whose conditioning set has the same size, and every nearby row count.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec

from ._compile_cache import bucket
from ._custom_types import Array, Bool, Float, Int
from ._export_cache import cached_jit, to_device
from ._kernels import log_conditional_weights, log_kernel_matrix
from ._sharding import BATCH_AXIS

__all__ = ["SLOT_BLOCK", "Training", "append_kept", "empty_output", "expand", "full_scores", "padded_rows",
           "sharded_step", "unflatten", "use_sorted"]

# Output slots filled per block by the scored step.
_FILL_BLOCK = 1 << 10
# Parent rows and output slots handled per block by the sorted step.
SLOT_BLOCK = 1 << 14


class Training(NamedTuple):
    """The training table on the device, padded to ``n_pad`` rows of which the first ``n`` are real."""

    x: Float[Array, "n_pad d"]
    h: Float[Array, " d"]
    is_categorical: Bool[Array, " d"]
    n: Int[Array, ""]

    def columns(self, pillow: Int[Array, " c"]):
        """``(x, h, is_categorical, n)`` restricted to the conditioning columns ``pillow``."""
        return Training(self.x[:, pillow], self.h[pillow], self.is_categorical[pillow], self.n)

    def log_uniform(self, dtype) -> Float[Array, " n_pad"]:
        """``log(1/n)`` on the real rows, ``-inf`` on the padding: a root's conditional."""
        real = jnp.arange(self.x.shape[0], dtype=self.n.dtype) < self.n
        return jnp.where(real, -jnp.log(self.n.astype(dtype)), -jnp.inf)

    def log_kernel(self, z: Float[Array, "b c"], kernel: str) -> Float[Array, "b n_pad"]:
        """``log K_h(z_b - x_i)`` against every row, ``-inf`` on the padding."""
        real = jnp.arange(self.x.shape[0], dtype=self.n.dtype) < self.n
        return jnp.where(real[None, :], log_kernel_matrix(z, self.x, self.h, self.is_categorical, kernel), -jnp.inf)


def padded_rows(n: int) -> int:
    """Rows the training table is padded to: one of 8 sizes per power of two (``bucket``)."""
    return bucket(n, 8)


def full_scores(train: Training, pillow, parent_idx, parent_lw, rows, valid, log_threshold, *, kernel):
    """``(keep, log_w)`` of the candidates of parent rows ``rows`` against all training rows.

    ``train`` holds the conditioning columns only (``Training.columns``)."""
    if pillow.shape[0] == 0:
        log_f = jnp.broadcast_to(train.log_uniform(parent_lw.dtype), (rows.shape[0], train.x.shape[0]))
    else:
        z = jnp.take_along_axis(train.x, parent_idx[rows][:, pillow], axis=0)
        log_f = log_conditional_weights(train.log_kernel(z, kernel))
    log_w = parent_lw[rows][:, None] + log_f
    keep = valid[:, None] & (log_w >= log_threshold) & (log_w > -jnp.inf)
    return keep, log_w


def flat_ids(rows: Int[Array, " b"], n: int, dtype):
    """``flat_of`` for :func:`append_kept` when candidate ``(b, c)`` is training row ``c``:
    ``rows[b] * n + c``, computed in the output's integer dtype."""
    return lambda b, c: rows[b].astype(dtype) * n + c.astype(dtype)


def append_kept(out_flat, out_lw, count, keep, log_w, flat_of):
    """Write the kept candidates (row-major order) after the first ``count`` rows of the buffers.

    ``flat_of(b, c)`` gives the stored id (``parent row * n + training row``) of candidate
    ``(b, c)``. Slots past the capacity are dropped; the returned count still includes them.
    """
    cap = out_flat.shape[0]
    width_in = keep.shape[1]
    prefix = _inclusive_prefix(keep)
    width = prefix.shape[0] // keep.shape[0]
    total = prefix[-1].astype(count.dtype)

    def fill(j, buffers):
        out_flat, out_lw = buffers
        slot = j * _FILL_BLOCK + jnp.arange(_FILL_BLOCK, dtype=count.dtype)
        # The candidate holding kept rank `slot` is the first whose inclusive prefix exceeds it.
        flat = jnp.minimum(jnp.searchsorted(prefix, (slot + 1).astype(prefix.dtype), side="left"), prefix.shape[0] - 1)
        b, c = flat // width, jnp.minimum(flat % width, width_in - 1)
        position = jnp.where(slot < total, count + slot, cap)
        out_flat = out_flat.at[position].set(flat_of(b, c), mode="drop")
        out_lw = out_lw.at[position].set(log_w[b, c], mode="drop")
        return out_flat, out_lw

    n_fill = (total + _FILL_BLOCK - 1) // _FILL_BLOCK
    out_flat, out_lw = jax.lax.fori_loop(0, n_fill, fill, (out_flat, out_lw))
    return out_flat, out_lw, count + total


def empty_output(parent_idx, parent_lw, parent_count):
    """Flat ids, log-weights and count of an empty output buffer."""
    cap = parent_idx.shape[0]
    return (jnp.zeros(cap, parent_count.dtype), jnp.full(cap, -jnp.inf, parent_lw.dtype),
            jnp.zeros((), parent_count.dtype))


def unflatten(parent_idx, out_flat, var, n):
    """Index rows from flat ids: the parent row with column ``var`` set to the training row."""
    return parent_idx[out_flat // n].at[:, var].set((out_flat % n).astype(parent_idx.dtype))


def _scored_step(
    train: Training,
    pillow: Int[Array, " c"],
    var: Int[Array, ""],
    parent_idx: Int[Array, "cap d"],
    parent_lw: Float[Array, " cap"],
    parent_count: Int[Array, ""],
    log_threshold: Float[Array, ""],
    *,
    kernel: str,
    chunk: int,
) -> tuple[Int[Array, "cap d"], Float[Array, " cap"], Int[Array, ""]]:
    """Extend every kept row by every training value of ``var``; prune; compact.

    Candidates are scored ``chunk`` parent rows at a time against all training rows. The
    returned count may exceed the capacity: the buffer then holds the first ``cap`` rows and
    the caller must raise.
    """
    cap = parent_idx.shape[0]
    n = train.x.shape[0]
    local = train.columns(pillow)

    def score(i, state):
        rows = i * chunk + jnp.arange(chunk, dtype=parent_count.dtype)
        valid = rows < parent_count
        rows = jnp.minimum(rows, cap - 1)
        keep, log_w = full_scores(local, pillow, parent_idx, parent_lw, rows, valid, log_threshold, kernel=kernel)
        return append_kept(*state, keep, log_w, flat_ids(rows, n, state[0].dtype))

    n_chunks = (parent_count + chunk - 1) // chunk
    out_flat, out_lw, count = jax.lax.fori_loop(0, n_chunks, score, empty_output(parent_idx, parent_lw, parent_count))
    return unflatten(parent_idx, out_flat, var, n), out_lw, count


def _inclusive_prefix(keep: Bool[Array, "b n"]) -> Int[Array, " bm"]:
    """Running count of True entries over the flattened mask, inclusive, with every row padded
    to a multiple of 32 columns (``m = 32 * ceil(n / 32)``).

    A flat cumsum is slow on CPU; ranks inside blocks of 32 come from one small matmul with a
    triangular matrix (exact: counts ≤ 32 in float32), and only the block totals are summed
    cumulatively.
    """
    b, n = keep.shape
    width = 32
    blocks = -(-n // width)
    padded = jnp.pad(keep, ((0, 0), (0, blocks * width - n))).reshape(b * blocks, width)
    triangle = jnp.triu(jnp.ones((width, width), jnp.float32))
    within = jnp.matmul(padded.astype(jnp.float32), triangle).astype(jnp.int32)
    totals = within[:, -1]
    ends = jnp.cumsum(totals)
    prefix = (ends - totals)[:, None] + within
    # Padding columns stay: they are never kept, so they never hold a rank of their own.
    return prefix.reshape(-1)


def _sorted_step(
    train: Training,
    pillow: Int[Array, " c"],
    var: Int[Array, ""],
    parent_idx: Int[Array, "cap d"],
    parent_lw: Float[Array, " cap"],
    parent_count: Int[Array, ""],
    log_threshold: Float[Array, ""],
    *,
    kernel: str,
) -> tuple[Int[Array, "cap d"], Float[Array, " cap"], Int[Array, ""]]:
    """The same step for a conditioning set of at most one column, in output-sized work.

    With one conditioning column a row's conditional depends only on which training row that
    column came from, so the ``(n, n)`` conditional matrix is computed once and each of its
    rows sorted in decreasing order. A parent row then keeps a prefix of its sorted row, whose
    length a binary search finds; the kept rows are laid out by their offsets without ever
    materialising the ``count × n`` candidates. A root (no column) is the case of one
    uniform row.
    """
    cap = parent_idx.shape[0]
    n = train.x.shape[0]
    if pillow.shape[0] == 0:
        # The padding is last and weighs nothing, so this row is already sorted.
        log_m = train.log_uniform(parent_lw.dtype)[None, :]
        order = jnp.arange(n, dtype=parent_idx.dtype)[None, :]
        config = jnp.zeros(cap, parent_idx.dtype)
    else:
        local = train.columns(pillow)
        log_m = log_conditional_weights(local.log_kernel(local.x, kernel))
        order = jnp.argsort(-log_m, axis=1, stable=True).astype(parent_idx.dtype)
        log_m = jnp.take_along_axis(log_m, order, axis=1)
        config = parent_idx[:, pillow[0]]
    # Keep log w >= threshold and log w > -inf; the second is log w >= -max_float.
    lowest = -jnp.finfo(parent_lw.dtype).max
    steps = int(math.ceil(math.log2(n + 1))) + 1
    block = min(SLOT_BLOCK, cap)

    def count_block(i, state):
        ends, total = state
        rows = i * block + jnp.arange(block, dtype=total.dtype)
        conf = config[rows]
        floor = jnp.maximum(log_threshold - parent_lw[rows], lowest)

        def bisect(_, bounds):
            lo, hi = bounds
            mid = (lo + hi) // 2
            ok = log_m[conf, jnp.minimum(mid, n - 1)] >= floor
            active = lo < hi
            return jnp.where(active & ok, mid + 1, lo), jnp.where(active & ~ok, mid, hi)

        lo = jnp.zeros(block, total.dtype)
        kept, _ = jax.lax.fori_loop(0, steps, bisect, (lo, jnp.full(block, n, total.dtype)))
        kept = jnp.where(rows < parent_count, kept, 0)
        block_ends = total + jnp.cumsum(kept)
        return jax.lax.dynamic_update_slice(ends, block_ends, (i * block,)), block_ends[-1]

    # Rows past the last parent end "at infinity", so the search below never picks them.
    ends0 = jnp.full(cap, jnp.iinfo(parent_count.dtype).max, parent_count.dtype)
    n_blocks = (parent_count + block - 1) // block
    ends, count = jax.lax.fori_loop(0, n_blocks, count_block, (ends0, jnp.zeros((), parent_count.dtype)))

    def fill_block(j, state):
        out_idx, out_lw = state
        slot = j * block + jnp.arange(block, dtype=count.dtype)
        owner = jnp.minimum(jnp.searchsorted(ends, slot, side="right"), cap - 1)
        start = jnp.where(owner > 0, ends[jnp.maximum(owner - 1, 0)], 0)
        rank = jnp.clip(slot - start, 0, n - 1)
        conf = config[owner]
        rows = parent_idx[owner].at[:, var].set(order[conf, rank])
        lw = jnp.where(slot < count, parent_lw[owner] + log_m[conf, rank], -jnp.inf)
        return (
            jax.lax.dynamic_update_slice(out_idx, rows, (j * block, 0)),
            jax.lax.dynamic_update_slice(out_lw, lw, (j * block,)),
        )

    n_fill = (jnp.minimum(count, cap) + block - 1) // block
    init = (jnp.zeros_like(parent_idx), jnp.full(cap, -jnp.inf, parent_lw.dtype))
    out_idx, out_lw = jax.lax.fori_loop(0, n_fill, fill_block, init)
    return out_idx, out_lw, count


_expand_scored = cached_jit(_scored_step, static_argnames=("kernel", "chunk"))
_expand_sorted = cached_jit(_sorted_step, static_argnames=("kernel",))


@lru_cache(maxsize=None)
def sharded_step(mesh, sorted_step: bool, kernel: str, chunk: int):
    """One step run by every device of ``mesh`` on its own slice of the row buffer."""
    step = partial(_sorted_step, kernel=kernel) if sorted_step else partial(_scored_step, kernel=kernel, chunk=chunk)

    def local(train, pillow, var, idx, lw, count, log_threshold):
        out_idx, out_lw, out_count = step(train, pillow, var, idx[0], lw[0], count[0], log_threshold)
        return out_idx[None], out_lw[None], out_count[None]

    rows = PartitionSpec(BATCH_AXIS)
    replicated = PartitionSpec()
    mapped = jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(replicated,) * 3 + (rows, rows, rows, replicated),
        out_specs=(rows, rows, rows),
        check_vma=False,
    )
    return jax.jit(mapped)


# Above this many training rows the sorted (n, n) conditional matrix costs too much memory.
_SORTED_MAX_N = 3000
# Sorting the (n, n) conditional matrix costs about as much as scoring this many rows per
# training row against all n; below that the scored step is cheaper (XLA's CPU sort is slow).
_SORTED_MIN_ROWS_PER_N = 20


def use_sorted(pillow: tuple, n: int, rows: int) -> bool:
    """Whether the sorted step serves a variable with this pillow, given ``rows`` parent rows."""
    if not pillow:
        return True
    return len(pillow) == 1 and n <= _SORTED_MAX_N and rows >= _SORTED_MIN_ROWS_PER_N * n


def expand(train: Training, pillow, var, idx, lw, count, log_threshold, *, kernel, chunk, rows, sorted_step=None):
    """One step on one device; ``rows`` is the current number of kept rows (known on the host)."""
    if sorted_step is None:
        sorted_step = use_sorted(pillow, train.x.shape[0], rows)
    if sorted_step:
        step = partial(_expand_sorted, kernel=kernel)
    else:
        step = partial(_expand_scored, kernel=kernel, chunk=chunk)
    return step(train, to_device(pillow, jnp.int32), var, idx, lw, count, log_threshold)
