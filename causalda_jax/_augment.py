"""ADMG causal data augmentation: weighted enumeration of the Markov factorization, in bounded memory.

Rows are kept as training-row indices, one per processed variable, in a fixed-capacity buffer.
Each variable extends every kept row by each of the n training values; the candidates are
scored in fixed-size chunks, pruned by θ_eff and compacted into the next buffer. Shapes depend
only on (capacity, chunk, n, d, pillow size), so one compiled step serves every chunk and every
variable whose conditioning set has the same size.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.sharding import NamedSharding, PartitionSpec

from ._augmented_data import AugmentedData
from ._custom_types import Array, BandwidthSpec, Bool, Float, Int
from ._graph import GraphLike
from ._kernels import log_conditional_weights, log_kernel_matrix
from ._plan import Plan, make_plan
from ._sharding import BATCH_AXIS, batch_mesh

__all__ = ["augment", "AugmentationOverflowError", "empty_reason"]

# Candidates scored per chunk: bounds the (chunk, n) temporaries to a few tens of MB.
_CANDIDATES_PER_CHUNK = 1 << 19
# Output slots filled per block by the scored step.
_FILL_BLOCK = 1 << 10
# Parent rows and output slots handled per block by the sorted step.
_SLOT_BLOCK = 1 << 14
# Default cap on kept rows when the user gives none: about 1 GB of index buffers.
_DEFAULT_BUFFER_BYTES = 1 << 30


class AugmentationOverflowError(MemoryError):
    """More rows survive a step than ``max_rows`` allows."""


def _scored_step(
    x: Float[Array, "n d"],
    h: Float[Array, " d"],
    is_categorical: Bool[Array, " d"],
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

    Candidates are scored ``chunk`` parent rows at a time against all n training rows. The
    returned count may exceed the capacity: the buffer then holds the first ``cap`` rows and
    the caller must raise.
    """
    cap = parent_idx.shape[0]
    n = x.shape[0]
    x_pillow = x[:, pillow]
    h_pillow = h[pillow]
    cat_pillow = is_categorical[pillow]

    def score(i, state):
        out_flat, out_lw, count = state
        rows = i * chunk + jnp.arange(chunk, dtype=count.dtype)
        valid = rows < parent_count
        rows = jnp.minimum(rows, cap - 1)
        if pillow.shape[0] == 0:
            log_f = jnp.full((chunk, n), -math.log(n), parent_lw.dtype)
        else:
            z = jnp.take_along_axis(x_pillow, parent_idx[rows][:, pillow], axis=0)
            log_f = log_conditional_weights(log_kernel_matrix(z, x_pillow, h_pillow, cat_pillow, kernel))
        log_w = parent_lw[rows][:, None] + log_f
        keep = valid[:, None] & (log_w >= log_threshold) & (log_w > -jnp.inf)
        prefix = _inclusive_prefix(keep)
        width = prefix.shape[0] // chunk
        total = prefix[-1].astype(count.dtype)

        def fill(j, buffers):
            out_flat, out_lw = buffers
            slot = j * _FILL_BLOCK + jnp.arange(_FILL_BLOCK, dtype=count.dtype)
            # The candidate holding kept rank `slot` is the first whose inclusive prefix exceeds it.
            flat = jnp.minimum(jnp.searchsorted(prefix, (slot + 1).astype(prefix.dtype), side="left"), prefix.shape[0] - 1)
            b, c = flat // width, jnp.minimum(flat % width, n - 1)
            position = jnp.where(slot < total, count + slot, cap)
            out_flat = out_flat.at[position].set(rows[b] * n + c, mode="drop")
            out_lw = out_lw.at[position].set(log_w[b, c], mode="drop")
            return out_flat, out_lw

        n_fill = (total + _FILL_BLOCK - 1) // _FILL_BLOCK
        out_flat, out_lw = jax.lax.fori_loop(0, n_fill, fill, (out_flat, out_lw))
        return out_flat, out_lw, count + total

    n_chunks = (parent_count + chunk - 1) // chunk
    init = (
        jnp.zeros(cap, parent_count.dtype),
        jnp.full(cap, -jnp.inf, parent_lw.dtype),
        jnp.zeros((), parent_count.dtype),
    )
    out_flat, out_lw, count = jax.lax.fori_loop(0, n_chunks, score, init)
    out_idx = parent_idx[out_flat // n].at[:, var].set((out_flat % n).astype(parent_idx.dtype))
    return out_idx, out_lw, count


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
    x: Float[Array, "n d"],
    h: Float[Array, " d"],
    is_categorical: Bool[Array, " d"],
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
    n = x.shape[0]
    if pillow.shape[0] == 0:
        log_m = jnp.full((1, n), -math.log(n), parent_lw.dtype)
        order = jnp.arange(n, dtype=parent_idx.dtype)[None, :]
        config = jnp.zeros(cap, parent_idx.dtype)
    else:
        x_pillow = x[:, pillow]
        log_m = log_conditional_weights(
            log_kernel_matrix(x_pillow, x_pillow, h[pillow], is_categorical[pillow], kernel)
        )
        order = jnp.argsort(-log_m, axis=1, stable=True).astype(parent_idx.dtype)
        log_m = jnp.take_along_axis(log_m, order, axis=1)
        config = parent_idx[:, pillow[0]]
    # Keep log w >= threshold and log w > -inf; the second is log w >= -max_float.
    lowest = -jnp.finfo(parent_lw.dtype).max
    steps = int(math.ceil(math.log2(n + 1))) + 1
    block = min(_SLOT_BLOCK, cap)

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


_expand_scored = jax.jit(_scored_step, static_argnames=("kernel", "chunk"))
_expand_sorted = jax.jit(_sorted_step, static_argnames=("kernel",))


@lru_cache(maxsize=None)
def _sharded_step(mesh, sorted_step: bool, kernel: str, chunk: int):
    """One step run by every device of ``mesh`` on its own slice of the row buffer."""
    step = partial(_sorted_step, kernel=kernel) if sorted_step else partial(_scored_step, kernel=kernel, chunk=chunk)

    def local(x, h, is_cat, pillow, var, idx, lw, count, log_threshold):
        out_idx, out_lw, out_count = step(x, h, is_cat, pillow, var, idx[0], lw[0], count[0], log_threshold)
        return out_idx[None], out_lw[None], out_count[None]

    rows = PartitionSpec(BATCH_AXIS)
    replicated = PartitionSpec()
    mapped = jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(replicated,) * 5 + (rows, rows, rows, replicated),
        out_specs=(rows, rows, rows),
        check_vma=False,
    )
    return jax.jit(mapped)


# Above this many training rows the sorted (n, n) conditional matrix costs too much memory.
_SORTED_MAX_N = 3000


def _use_sorted(pillow: tuple, n: int) -> bool:
    return len(pillow) <= 1 and n <= _SORTED_MAX_N


def _expand(x, h, is_cat, pillow, var, idx, lw, count, log_threshold, *, kernel, chunk):
    if _use_sorted(pillow, x.shape[0]):
        return _expand_sorted(
            x, h, is_cat, jnp.asarray(pillow, jnp.int32), var, idx, lw, count, log_threshold, kernel=kernel
        )
    return _expand_scored(
        x, h, is_cat, jnp.asarray(pillow, jnp.int32), var, idx, lw, count, log_threshold, kernel=kernel, chunk=chunk
    )


def empty_reason(plan: Plan, step_name: Hashable) -> str:
    """Why nothing survived, and what to change."""
    roots = sum(1 for p in plan.pillows if not p)
    n = plan.table.n
    if roots >= 2 and plan.threshold_eff > 0 and float(n) ** (-roots) < plan.threshold_eff:
        return (
            f"no row survived: with {roots} root variables every row weighs at most 1/n^{roots} = "
            f"{float(n) ** (-roots):.3g}, below the pruning level θ_eff = {plan.threshold_eff:.3g}. "
            f"Lower threshold below {float(n) ** (1 - roots) if plan.config['normalize_threshold'] else float(n) ** -roots:.3g}, "
            "or draw samples with causalda_jax.sample, which has no such limit"
        )
    return (
        f"no row survived after variable {step_name!r}: every candidate weighed less than θ_eff = "
        f"{plan.threshold_eff:.3g}. Lower threshold, or raise bandwidth_scale so that the kernel conditionals spread "
        "their mass over more rows"
    )


def _buffer_shape(plan: Plan, max_rows: int | None, chunk_size: int | None) -> tuple[int, int, int]:
    """(capacity, chunk, limit): the buffer size, rows scored per chunk, and most rows allowed.

    The capacity is a power of two (so that runs of similar size share compiled steps) or,
    when ``max_rows`` binds, ``max_rows`` rounded up to a multiple of the block sizes.
    """
    n, d = plan.table.n, plan.table.d
    if max_rows is None:
        max_rows = _DEFAULT_BUFFER_BYTES // (2 * (4 * d + 16))
    elif int(max_rows) < 1:
        raise ValueError(f"max_rows must be a positive integer, got {max_rows}")
    if chunk_size is None:
        chunk_size = max(1, _CANDIDATES_PER_CHUNK // n)
    elif int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    bound = int(plan.row_bound())
    limit = min(bound, int(max_rows))
    rows = 1 << (bound - 1).bit_length() if bound <= int(max_rows) else limit
    # Powers of two, so that the capacity is a multiple of both block sizes at little cost.
    chunk = 1 << (min(int(chunk_size), rows).bit_length() - 1)
    quantum = max(chunk, min(_SLOT_BLOCK, 1 << (rows - 1).bit_length()))
    return -(-rows // quantum) * quantum, chunk, limit


def augment(
    data: pd.DataFrame,
    graph: GraphLike,
    *,
    threshold: float = 1e-2,
    normalize_threshold: bool = True,
    kernel: str = "gaussian",
    bandwidth: BandwidthSpec = "normal_reference",
    bandwidth_scale: float = 1.0,
    categorical: Iterable[Hashable] | None = None,
    chunk_size: int | None = None,
    max_rows: int | None = None,
    progress: bool | Callable[[int, int, Hashable, int], None] = False,
    devices: int | Sequence[jax.Device] | None = None,
) -> AugmentedData:
    """Full weighted causal data augmentation (ADMG-DA).

    Every combination of training values consistent with the Markov factorization of
    ``graph`` is enumerated with its weight ``Π_v w(x_v | pillow(v))``; rows lighter than
    ``θ_eff`` are pruned after each variable (exact: factors are ≤ 1), and identical rows are
    merged by adding their weights.

    Args:
        data: training table; its columns must be exactly the graph's nodes.
        graph: a CausalGraph, a networkx DiGraph, a JSON path or a dict.
        threshold: θ in [0, 1); 0 keeps every row of positive weight.
        normalize_threshold: prune at θ/n (True) or at θ.
        kernel: ``"gaussian"`` or ``"epanechnikov"`` for continuous columns.
        bandwidth: ``"normal_reference"``, ``"silverman"``, ``"scott"``, a float, or a dict per column.
        bandwidth_scale: τ, multiplies every bandwidth.
        categorical: extra columns to treat as categorical (exact-match kernel).
        chunk_size: partial rows scored per compiled chunk, rounded down to a power of two
            (default: about 2^19 / n).
        max_rows: most rows a step may keep (default: about 1 GB of buffers).
        progress: True for a progress bar, or a callback ``(step, n_steps, variable, rows)``.
        devices: None for one device; an int k (the first k devices) or a list of devices to
            split the kept rows across them. Each device extends its own rows; rows are
            rebalanced between steps. The result is identical to the one-device result.

    Returns:
        The weighted rows; empty, with a warning saying why, when pruning removes everything.

    Raises:
        AugmentationOverflowError: a step needs more than ``max_rows`` rows (the message says
            how many, and which threshold would fit).

    Example:
        >>> import pandas as pd, causalda_jax as cda
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0.0, 1.1, 1.9, 3.2]})
        >>> aug = cda.augment(df, {"directed": [["x", "y"]]}, threshold=0.0)
        >>> len(aug), round(aug.mass, 12)
        (16, 1.0)
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
    d = plan.table.d
    cap, chunk, limit = _buffer_shape(plan, max_rows, chunk_size)
    config = {**plan.config, "engine": "jax", "chunk_size": chunk, "capacity": cap, "max_rows": limit}
    names = [plan.table.columns[v] for v in plan.order]
    callback = _progress_callback(progress, len(names))

    with jax.enable_x64(True):
        if devices is None:
            index_rows, log_weights = _run_single(plan, cap, chunk, limit, max_rows, names, callback)
        else:
            index_rows, log_weights = _run_sharded(
                plan, batch_mesh(devices), cap, chunk, limit, max_rows, names, callback
            )
    return AugmentedData.from_index_rows(data, plan.table.values, index_rows, log_weights, plan.graph, config)


def _run_single(plan, cap, chunk, limit, max_rows, names, callback):
    d = plan.table.d
    x = jnp.asarray(plan.table.values)
    h = jnp.asarray(plan.h)
    is_cat = jnp.asarray(plan.table.is_categorical)
    idx = jnp.zeros((cap, d), jnp.int32)
    lw = jnp.full(cap, -jnp.inf, jnp.float64).at[0].set(0.0)
    count = jnp.ones((), jnp.int64)
    log_threshold = jnp.asarray(plan.log_threshold, jnp.float64)
    kept = 1
    for step, (var, pillow) in enumerate(zip(plan.order, plan.pillows)):
        idx, lw, count = _expand(
            x, h, is_cat, pillow, jnp.asarray(var, jnp.int32), idx, lw, count, log_threshold,
            kernel=plan.kernel, chunk=chunk,
        )
        kept = int(count)
        if kept > limit:
            _raise_overflow(plan, kept, limit, names[step], max_rows)
        callback(step, names[step], kept)
        if kept == 0:
            warnings.warn(empty_reason(plan, names[step]), stacklevel=3)
            break
    return np.asarray(idx[:kept]), np.asarray(lw[:kept])


def _run_sharded(plan, mesh, cap, chunk, limit, max_rows, names, callback):
    """Every device holds up to ``cap`` rows (its rows' weights sum to at most 1, so it cannot
    overflow before the global check); rows are spread evenly again after each step."""
    d = plan.table.d
    n_dev = mesh.devices.size
    rows = NamedSharding(mesh, PartitionSpec(BATCH_AXIS))
    replicated = NamedSharding(mesh, PartitionSpec())
    put = lambda a: jax.device_put(a, replicated)  # noqa: E731
    x, h, is_cat = put(plan.table.values), put(plan.h), put(plan.table.is_categorical)
    log_threshold = put(np.float64(plan.log_threshold))
    host_idx = np.zeros((1, d), np.int32)
    host_lw = np.zeros(1)
    for step, (var, pillow) in enumerate(zip(plan.order, plan.pillows)):
        idx, lw, count = _spread(host_idx, host_lw, n_dev, cap, rows)
        fn = _sharded_step(mesh, _use_sorted(pillow, plan.table.n), plan.kernel, chunk)
        idx, lw, count = fn(x, h, is_cat, put(np.asarray(pillow, np.int32)), put(np.int32(var)),
                            idx, lw, count, log_threshold)
        counts = np.asarray(count)
        kept = int(counts.sum())
        if kept > limit:
            _raise_overflow(plan, kept, limit, names[step], max_rows)
        idx, lw = np.asarray(idx), np.asarray(lw)
        host_idx = np.concatenate([idx[k, : counts[k]] for k in range(n_dev)])
        host_lw = np.concatenate([lw[k, : counts[k]] for k in range(n_dev)])
        callback(step, names[step], kept)
        if kept == 0:
            warnings.warn(empty_reason(plan, names[step]), stacklevel=3)
            break
    return host_idx, host_lw


def _spread(host_idx, host_lw, n_dev, cap, sharding):
    """Split rows evenly over devices, padded to ``cap`` rows each."""
    m, d = host_idx.shape
    per = -(-m // n_dev)
    idx = np.zeros((n_dev, cap, d), np.int32)
    lw = np.full((n_dev, cap), -np.inf)
    count = np.zeros(n_dev, np.int64)
    for k in range(n_dev):
        part = slice(k * per, min(m, (k + 1) * per))
        size = max(0, part.stop - part.start)
        idx[k, :size] = host_idx[part]
        lw[k, :size] = host_lw[part]
        count[k] = size
    return (jax.device_put(idx, sharding), jax.device_put(lw, sharding), jax.device_put(count, sharding))


def _raise_overflow(plan: Plan, needed: int, cap: int, name: Hashable, max_rows: int | None) -> None:
    n, d = plan.table.n, plan.table.d
    theta_fit = n / cap if plan.config["normalize_threshold"] else 1.0 / cap
    limit = f"max_rows={max_rows}" if max_rows is not None else f"the default cap of {cap} rows (about 1 GB)"
    raise AugmentationOverflowError(
        f"after variable {name!r}, {needed} rows have weight ≥ θ_eff = {plan.threshold_eff:.3g}, more than "
        f"{limit}. Raise max_rows (each row costs about {4 * d + 16} bytes), or raise threshold to at least "
        f"{theta_fit:.3g}, which bounds every step by {cap} rows; or draw a fixed number of samples with "
        "causalda_jax.sample"
    )


def _progress_callback(progress, total: int) -> Callable[[int, Hashable, int], None]:
    if callable(progress):
        return lambda step, name, rows: progress(step, total, name, rows)
    if not progress:
        return lambda step, name, rows: None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("augmenting", total=total)
    bar.start()

    def update(step: int, name: Hashable, rows: int) -> None:
        bar.update(task, advance=1, description=f"{name}: {rows:,} rows")
        if step + 1 == total or rows == 0:
            bar.stop()

    return update
