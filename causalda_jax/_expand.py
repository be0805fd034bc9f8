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
from ._kernels import log_conditional_weights, log_kernel_matrix, log_kernel_pairs
from ._sharding import BATCH_AXIS

__all__ = ["SLOT_BLOCK", "Training", "append_kept", "empty_output", "expand", "full_scores", "padded_rows",
           "sharded_step", "unflatten", "use_interval"]

# Output slots filled per block by the scored step.
_FILL_BLOCK = 1 << 10
# Parent rows and output slots handled per block by the interval step.
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

    def real(self) -> Bool[Array, " n_pad"]:
        """Whether each row is a training row rather than padding."""
        return jnp.arange(self.x.shape[0], dtype=self.n.dtype) < self.n

    def log_uniform(self, dtype) -> Float[Array, " n_pad"]:
        """``log(1/n)`` on the real rows, ``-inf`` on the padding: a root's conditional."""
        return jnp.where(self.real(), -jnp.log(self.n.astype(dtype)), -jnp.inf)

    def log_kernel(self, z: Float[Array, "b c"], kernel: str) -> Float[Array, "b n_pad"]:
        """``log K_h(z_b - x_i)`` against every row, ``-inf`` on the padding."""
        return jnp.where(self.real()[None, :], log_kernel_matrix(z, self.x, self.h, self.is_categorical, kernel),
                         -jnp.inf)


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


def _interval_step(
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

    With one conditioning column, a parent row's conditional depends only on the training row
    ``c`` its value came from, and it decreases with ``|x_c - x_i|`` (each kernel, and an exact
    match, does; so do their float64 values). In value-sorted order the kept training rows
    of a parent are therefore one interval around ``c``, whose ends two binary searches find by
    evaluating the keep test itself. Only the n normalisers are computed in full (``n × n``
    kernel values, streamed in blocks, never stored); the kept rows are laid out by their
    offsets without materialising the ``count × n`` candidates. A root (no column) keeps all
    of its uniform row or none of it.
    """
    cap = parent_idx.shape[0]
    n = train.x.shape[0]
    real = train.real()
    idx_dtype = parent_idx.dtype
    if pillow.shape[0] == 0:
        log_uniform = train.log_uniform(parent_lw.dtype)
        order = jnp.arange(n, dtype=idx_dtype)
        position = jnp.zeros(n, idx_dtype)  # every parent searches from the first row

        def log_f(conf, row):
            return log_uniform[row]

        config = jnp.zeros(cap, idx_dtype)
    else:
        local = train.columns(pillow)
        values = local.x[:, 0]
        order = jnp.argsort(jnp.where(real, values, jnp.inf), stable=True).astype(idx_dtype)
        position = jnp.zeros(n, idx_dtype).at[order].set(jnp.arange(n, dtype=idx_dtype))
        log_norm = _log_normalisers(local, kernel)

        def log_f(conf, row):
            log_k = log_kernel_pairs(local.x[conf], local.x[row], local.h, local.is_categorical, kernel)
            norm = log_norm[conf]
            return jnp.where(real[row] & jnp.isfinite(norm), log_k - norm, -jnp.inf)

        config = parent_idx[:, pillow[0]]
    last = (train.n - 1).astype(idx_dtype)
    steps = int(math.ceil(math.log2(n + 1))) + 1
    block = min(SLOT_BLOCK, cap)

    def keeps(rows, conf, at):
        log_w = parent_lw[rows] + log_f(conf, order[at])
        return (log_w >= log_threshold) & (log_w > -jnp.inf)

    def count_block(i, state):
        ends, first, total = state
        rows = i * block + jnp.arange(block, dtype=total.dtype)
        conf = config[rows]
        centre = position[conf]

        def left(_, bounds):  # the first kept position in [0, centre]
            lo, hi = bounds
            mid = (lo + hi) // 2
            ok = keeps(rows, conf, mid)
            active = lo < hi
            return jnp.where(active & ~ok, mid + 1, lo), jnp.where(active & ok, mid, hi)

        def right(_, bounds):  # the last kept position in [centre, last]
            lo, hi = bounds
            mid = (lo + hi + 1) // 2
            ok = keeps(rows, conf, mid)
            active = lo < hi
            return jnp.where(active & ok, mid, lo), jnp.where(active & ~ok, mid - 1, hi)

        start, _ = jax.lax.fori_loop(0, steps, left, (jnp.zeros_like(centre), centre))
        stop, _ = jax.lax.fori_loop(0, steps, right, (centre, jnp.full_like(centre, last)))
        kept = jnp.where((rows < parent_count) & keeps(rows, conf, centre), stop - start + 1, 0).astype(total.dtype)
        block_ends = total + jnp.cumsum(kept)
        return (jax.lax.dynamic_update_slice(ends, block_ends, (i * block,)),
                jax.lax.dynamic_update_slice(first, start, (i * block,)), block_ends[-1])

    # Rows past the last parent end "at infinity", so the search below never picks them.
    ends0 = jnp.full(cap, jnp.iinfo(parent_count.dtype).max, parent_count.dtype)
    n_blocks = (parent_count + block - 1) // block
    init = (ends0, jnp.zeros(cap, idx_dtype), jnp.zeros((), parent_count.dtype))
    ends, first, count = jax.lax.fori_loop(0, n_blocks, count_block, init)

    def fill_block(j, state):
        out_idx, out_lw = state
        slot = j * block + jnp.arange(block, dtype=count.dtype)
        owner = jnp.minimum(jnp.searchsorted(ends, slot, side="right"), cap - 1)
        start = jnp.where(owner > 0, ends[jnp.maximum(owner - 1, 0)], 0)
        at = jnp.clip(first[owner] + (slot - start).astype(idx_dtype), 0, n - 1)
        row = order[at]
        rows = parent_idx[owner].at[:, var].set(row)
        lw = jnp.where(slot < count, parent_lw[owner] + log_f(config[owner], row), -jnp.inf)
        return (
            jax.lax.dynamic_update_slice(out_idx, rows, (j * block, 0)),
            jax.lax.dynamic_update_slice(out_lw, lw, (j * block,)),
        )

    n_fill = (jnp.minimum(count, cap) + block - 1) // block
    init = (jnp.zeros_like(parent_idx), jnp.full(cap, -jnp.inf, parent_lw.dtype))
    out_idx, out_lw = jax.lax.fori_loop(0, n_fill, fill_block, init)
    return out_idx, out_lw, count


def _log_normalisers(local: Training, kernel: str) -> Float[Array, " n_pad"]:
    """``logsumexp_i log K(x_c - x_i)`` over the real rows, for every training row ``c``,
    in blocks of rows (the ``n × n`` matrix is never stored)."""
    n = local.x.shape[0]
    block = max(1, min(n, (1 << 20) // n))
    n_blocks = -(-n // block)
    xq = jnp.pad(local.x, ((0, n_blocks * block - n), (0, 0)))

    def one(i, out):
        z = jax.lax.dynamic_slice_in_dim(xq, i * block, block)
        return jax.lax.dynamic_update_slice(out, jax.nn.logsumexp(local.log_kernel(z, kernel), axis=1), (i * block,))

    out = jax.lax.fori_loop(0, n_blocks, one, jnp.zeros(n_blocks * block, local.x.dtype))
    return out[:n]


_expand_scored = cached_jit(_scored_step, static_argnames=("kernel", "chunk"))
_expand_interval = cached_jit(_interval_step, static_argnames=("kernel",))


@lru_cache(maxsize=None)
def sharded_step(mesh, interval_step: bool, kernel: str, chunk: int):
    """One step run by every device of ``mesh`` on its own slice of the row buffer."""
    step = partial(_interval_step, kernel=kernel) if interval_step else partial(_scored_step, kernel=kernel, chunk=chunk)

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


# The interval step's normalisers cost about one full scan of n parent rows; with fewer parent
# rows per training row than this, the scored (or pruned) step is cheaper.
_INTERVAL_MIN_ROWS_PER_N = 1


def use_interval(pillow: tuple, n: int, rows: int) -> bool:
    """Whether the interval step serves a variable with this pillow, given ``rows`` parent rows."""
    if not pillow:
        return True
    return len(pillow) == 1 and rows >= _INTERVAL_MIN_ROWS_PER_N * n


def expand(train: Training, pillow, var, idx, lw, count, log_threshold, *, kernel, chunk, interval_step: bool):
    """One step on one device: the interval step, or the scored step over chunks of parent rows."""
    if interval_step:
        step = partial(_expand_interval, kernel=kernel)
    else:
        step = partial(_expand_scored, kernel=kernel, chunk=chunk)
    return step(train, to_device(pillow, jnp.int32), var, idx, lw, count, log_threshold)
