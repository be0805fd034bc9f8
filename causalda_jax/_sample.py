"""Ancestral sampling from the kernel-conditional factorization, in bounded memory, on any number of devices.

Variables are drawn in topological order. A root takes a uniformly chosen training row; any
other variable ``v`` takes training row ``i`` with probability ``w_i(z) ∝ K_h(z - X_i^C)``, the
same kernel conditional as :func:`causalda_jax.augment`, where ``z`` holds the sample's values
on the Markov pillow ``C`` of ``v``.

A choice has two stages. The training rows are grouped into leaves of a k-d tree on the
pillow's columns (:mod:`causalda_jax._leaves`, fixed-size leaves). A Gumbel-max over the
leaves, each scored by its kernel mass (the log-sum-exp of its rows' ``log K``), picks a leaf
with probability proportional to its mass; a Gumbel-max over the leaf's rows then picks a row
with probability proportional to its kernel value (:mod:`causalda_jax._leaf_choice`). The
product is exactly ``w_i(z)``. The leaf masses stream over blocks of training rows, so no
``samples × rows`` array ever exists, and the noise costs one hash per (sample, leaf) plus one
per row of the chosen leaf.

Each Gumbel is a hash of a key, the variable, the sample's index and the leaf or row
(:mod:`causalda_jax._noise`), so a sample's draw does not depend on how samples or training
rows are split into blocks, nor on how many devices share the work.

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

This module holds the host loop that feeds the compiled draw (:mod:`causalda_jax._draw_chunk`)
chunks of sample indices and redraws dead ends (:func:`_draw`), and the public :func:`sample`.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from ._compile_cache import bucket
from ._custom_types import Array, BandwidthSpec
from ._draw_chunk import BlockDraw, DrawInputs, Steps, draw_chunk
from ._export_cache import to_device
from ._graph import GraphLike
from ._leaf_choice import STAGE_BOUNDS, STAGE_FULL, ChoiceConfig
from ._leaves import leaf_boxes, leaf_moments, leaf_order
from ._memory import check_memory
from ._plan import Plan, sampling_plan
from ._sharding import batch_mesh, batch_sharding, pad_to_multiple
from ._tabular import frame_from_rows

if TYPE_CHECKING:
    from ._stream import ParquetSample

__all__ = ["sample", "NoConditionalError", "fresh_seed"]

# Default block sizes (samples per device per chunk, training rows per block).
_SAMPLE_BLOCK = {"cpu": 1024, "other": 32768}
_ROW_BLOCK = {"cpu": 2048, "other": 4096}
# Training rows per leaf (even: rows are hashed in pairs): a conditional draw picks a leaf by
# its kernel mass, then a row in it.
_LEAF = 128
# Leaves whose exact masses the pruned sampler computes when bounds alone do not decide (0: the
# full scan for every draw), and the group sizes (samples) of its second and third stages.
_CANDIDATE_LEAVES = 8
_CANDIDATE_GROUP = 256
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


# Host side: layout, training data in leaf order, chunks and redraw rounds.


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


def _steps(plan: Plan, x: np.ndarray, leaf: int) -> Steps:
    """The :class:`Steps` of ``plan``, as numpy arrays.

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
    return Steps(np.asarray(plan.order, np.int32), pillow, mask, is_root, perm, lo, hi, mean, var)


class DrawLayout(NamedTuple):
    """The static shape of a draw: what each compiled call holds.

    Attributes:
        chunk: samples per compiled call, over all devices.
        n_pad: training rows padded to whole row blocks.
        config: the leaf choice's static settings.
    """

    chunk: int
    n_pad: int
    config: ChoiceConfig


def _layout(
    plan: Plan, n_samples: int, n_dev: int, *, neighbors: int | None, chunk_size: int | None,
    row_chunk_size: int | None,
) -> DrawLayout:
    """Block sizes from the arguments or the backend's defaults, rounded so nearby sizes share a kernel."""
    n = plan.table.n
    backend = "cpu" if jax.default_backend() == "cpu" else "other"
    chunk = _SAMPLE_BLOCK[backend] * n_dev if chunk_size is None else _positive_int(chunk_size, "chunk_size")
    # A power of two for small requests, so that nearby sample counts share one compiled kernel.
    chunk = pad_to_multiple(min(chunk, 1 << (n_samples - 1).bit_length()), n_dev)
    leaf = _LEAF
    if row_chunk_size is None:
        row_block = min(_ROW_BLOCK[backend], 1 << max(1, (n - 1).bit_length()))
    else:
        row_block = _positive_int(row_chunk_size, "row_chunk_size")
    row_block = pad_to_multiple(row_block, leaf)  # whole leaves per block
    n_leaves = None
    if neighbors is not None:
        n_leaves = -(-_positive_int(neighbors, "neighbors") // leaf)
        if n_leaves * leaf >= n:
            n_leaves = None  # every row is a candidate: the exact sampler
    config = ChoiceConfig(
        kernel=plan.kernel, leaf=leaf, row_block=row_block, n_leaves=n_leaves, n_cand=_CANDIDATE_LEAVES,
        cand_group=_CANDIDATE_GROUP, full_group=_FULL_GROUP,
    )
    return DrawLayout(chunk, bucket(n, row_block), config)  # nearby row counts share a compiled kernel


def _draw_inputs(plan: Plan, layout: DrawLayout, smoothing: float) -> DrawInputs:
    """The training data in bandwidth units and leaf order, on the default device."""
    x = np.zeros((layout.n_pad, plan.table.d), np.float32)
    x[: plan.table.n] = _scaled_values(plan)
    return DrawInputs(
        to_device(x),
        to_device(plan.table.is_categorical),
        Steps(*(to_device(a) for a in _steps(plan, x, layout.config.leaf))),
        to_device(smoothing, jnp.float32),
        to_device(plan.table.n, jnp.int32),
    )


class ChunkDraw(NamedTuple):
    """One compiled call's draws on the host, cut to its real samples.

    Attributes:
        ids: ``(m,)`` the samples' positions in the draw (their hashed index adds ``offset``).
        index_rows: ``(m, d)`` training row of each value.
        alive: ``(m,)`` whether the sample had a conditional at every variable.
        noise: ``(m, d)`` smoothing noise, or ``(m, 0)`` without smoothing.
        stage_counts: how many leaf choices each stage decided (index: ``STAGE_*``).
    """

    ids: np.ndarray
    index_rows: np.ndarray
    alive: np.ndarray
    noise: np.ndarray
    stage_counts: np.ndarray


def _to_host(ids: np.ndarray, out: BlockDraw) -> ChunkDraw:
    idx, alive, eps, stages = (np.asarray(a) for a in out)
    m = ids.size
    counts = np.bincount(stages[:m].ravel(), minlength=STAGE_FULL + 1)
    return ChunkDraw(ids, idx[:m], alive[:m], eps[:m], counts)


def _chunk_draws(
    call: Callable[[Array], BlockDraw], pending: np.ndarray, chunk: int, offset: int, sharding
) -> Iterator[ChunkDraw]:
    """Draw the samples ``pending`` (positions from ``offset``) in calls of ``chunk`` samples.

    The last call is padded with copies of its first sample. Each call is dispatched before the
    previous one is copied back, so the devices never wait for the host.
    """
    in_flight = None
    for start in range(0, pending.size, chunk):
        ids = pending[start : start + chunk]
        padded = np.zeros(chunk, np.int32)
        padded[: ids.size] = ids + offset
        padded[ids.size :] = ids[0] + offset
        device_ids = jax.device_put(padded, sharding) if sharding is not None else to_device(padded)
        out = call(device_ids)
        if in_flight is not None:
            yield _to_host(*in_flight)
        in_flight = (ids, out)
    if in_flight is not None:
        yield _to_host(*in_flight)


class DrawResult(NamedTuple):
    """What :func:`_draw` returns.

    Attributes:
        index_rows: ``(n_samples, d)`` training row of every value.
        noise: ``(n_samples, d)`` smoothing noise in bandwidth units, or ``None`` without smoothing.
        stats: how the leaf choices were decided.
    """

    index_rows: np.ndarray
    noise: np.ndarray | None
    stats: DrawStats


def _no_conditional_error(left: int, n_samples: int, rate: float) -> NoConditionalError:
    return NoConditionalError(
        f"{left} of {n_samples} samples still reach, after {_MAX_ROUNDS} redraws, a variable whose kernel "
        f"conditional is zero for every training row (only {rate:.3g} of draws have one). This happens with "
        "exact-match categorical or compact (epanechnikov) kernels when the sampled pillow values are never seen "
        "together in the data. Use kernel='gaussian', raise bandwidth_scale, or merge rare categories"
    )


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
) -> DrawResult:
    """Index rows ``(n_samples, d)``, with smoothing kernel noise in bandwidth units, and the leaf-choice counts.

    Row ``r`` is the sample of index ``offset + r``: its noise is hashed from that index. A
    sample with no conditional at some variable is redrawn in the next round, under the key
    folded with the round.
    """
    d = plan.table.d
    mesh = batch_mesh(devices)
    n_dev = mesh.devices.size
    layout = _layout(plan, n_samples, n_dev, neighbors=neighbors, chunk_size=chunk_size,
                     row_chunk_size=row_chunk_size)
    inputs = _draw_inputs(plan, layout, smoothing)
    smooth = smoothing > 0
    sharding = batch_sharding(mesh) if n_dev > 1 else None
    compiled = partial(draw_chunk, config=layout.config, smooth=smooth, mesh=mesh if n_dev > 1 else None)

    index_rows = np.zeros((n_samples, d), np.int32)
    noise = np.zeros((n_samples, d), np.float32) if smooth else None
    stage_counts = np.zeros(STAGE_FULL + 1, np.int64)
    pending = np.arange(n_samples, dtype=np.int64)
    drawn = accepted = 0
    key_data = np.asarray(jax.random.key_data(key))
    for round_ in range(_MAX_ROUNDS):
        dead = []
        # Arrays positionally: the export cache keys on them (keyword arguments are static).
        call = lambda ids, r=np.uint32(round_): compiled(key_data, r, ids, inputs)  # noqa: E731
        for part in _chunk_draws(call, pending, layout.chunk, offset, sharding):
            kept = part.ids[part.alive]
            index_rows[kept] = part.index_rows[part.alive]
            if noise is not None:
                noise[kept] = part.noise[part.alive]
            stage_counts += part.stage_counts
            accepted += kept.size
            dead.append(part.ids[~part.alive])
        drawn += pending.size
        pending = np.concatenate(dead)
        if pending.size == 0:
            return DrawResult(index_rows, noise, DrawStats(*(int(c) for c in stage_counts[STAGE_BOUNDS:])))
    raise _no_conditional_error(pending.size, n_samples, accepted / drawn)


# The public entry point: arguments, seed, and the frame.


def fresh_seed() -> int:
    """A seed from the operating system's entropy (62 bits: room for per-fold offsets below 2**63)."""
    return secrets.randbits(62)


def _as_key(seed, key) -> jax.Array:
    """The PRNG key of ``seed`` (a non-negative int) or ``key`` (a key, or raw uint32[2] key data)."""
    if seed is not None and key is not None:
        raise ValueError("pass either seed or key, not both")
    if key is None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be a non-negative int, got {seed!r}; or pass key=jax.random.key(...)")
        if not 0 <= int(seed) < 2**63:
            raise ValueError(f"seed must be a non-negative int below 2**63, got {seed}")
        # Both 32-bit halves explicitly: `jax.random.key` keeps only the low half unless x64 is on,
        # so a wide seed would name different draws in the two configurations.
        seed = int(seed)
        return jax.random.wrap_key_data(np.array([seed >> 32, seed & 0xFFFFFFFF], np.uint32), impl="threefry2x32")
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


def _seed_and_key(seed, key, *, shared: str | None) -> tuple[int | None, jax.Array]:
    """The seed used (``None`` when a key is given) and its key; ``seed=key=None`` draws a fresh seed.

    ``shared`` names what must repeat the draw (a resumable directory, the processes of a job),
    where a fresh seed cannot work.
    """
    if seed is None and key is None:
        if shared is not None:
            raise ValueError(
                f"{shared} must draw the same rows, so it needs an explicit seed (or key); seed=None draws a fresh "
                "seed on every call. Pass seed=0, or any int"
            )
        seed = fresh_seed()
    return (None if seed is None else int(seed)), _as_key(seed, key)


def _counts(n_samples, offset) -> tuple[int, int]:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or int(n_samples) < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or int(offset) < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
    if int(offset) + int(n_samples) >= 2**31:
        raise ValueError(
            f"offset + n_samples must be below 2**31, got {int(offset) + int(n_samples)}; "
            "draw in several calls with different seeds"
        )
    return int(n_samples), int(offset)


def _smoothing(smoothing) -> float:
    try:
        smoothing = float(smoothing)
    except (TypeError, ValueError):
        raise ValueError(f"smoothing must be a number ≥ 0, got {smoothing!r}") from None
    if not (math.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(f"smoothing must be a finite number ≥ 0, got {smoothing}; 0 draws training values only")
    return smoothing


def _process_share(data, graph, n_samples: int, key, offset: int, options: dict) -> tuple[pd.DataFrame, np.ndarray]:
    """This process's contiguous share of the draw (a ``jax.distributed`` job), on its local devices."""
    from ._distributed import process_share

    start, stop = process_share(n_samples, data, graph, key, offset=offset, **options)
    # An empty share (fewer samples than processes) draws one sample and keeps none.
    frame, index_rows = sample(
        data, graph, max(stop - start, 1), key=key, offset=offset + start, devices=jax.local_devices(),
        return_indices=True, **options,
    )
    frame, index_rows = frame.iloc[: stop - start], index_rows[: stop - start]
    frame.index = pd.RangeIndex(start, stop)
    return frame, index_rows


def _smoothed(frame: pd.DataFrame, data: pd.DataFrame, plan: Plan, drawn: DrawResult, smoothing: float) -> None:
    """Add the smoothing noise (scale ``smoothing · h``) to the continuous columns of ``frame``, in place."""
    for j, col in enumerate(data.columns):
        if not plan.table.is_categorical[j]:
            base = data[col].to_numpy(np.float64)[drawn.index_rows[:, j]]
            frame[col] = base + smoothing * plan.h[j] * drawn.noise[:, j].astype(np.float64)


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
        seed: non-negative int; ``seed=s`` is ``key=jax.random.key(s)``. ``None`` (with no
            ``key``) draws a fresh seed from the operating system's entropy and records it in
            ``attrs["seed"]``: pass it back to repeat the draw. A draw to ``out`` or shared by the
            processes of a ``jax.distributed`` job needs an explicit seed or key.
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
        devices: ``None`` for every local device of the default backend (as in
            :func:`causalda_jax.augment`), an int for the first ``k`` of them, or a sequence of
            devices; the sample axis is split across them.
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
        :class:`DrawStats` as a dict, ``attrs["seed"]`` the seed used or ``None`` for a key), and with ``return_indices`` the index rows as a second
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
    distributed = devices is None and jax.process_count() > 1
    if estimator is not None:
        from .estimators._ancestral import only_kernel, sample_with_estimators

        if not only_kernel(estimator, graph):
            if out is not None or offset:
                raise ValueError(
                    "out= and offset= stream the kernel sampler only; with a non-kernel estimator, draw in memory "
                    "(out=None, offset=0)"
                )
            used, root_key = _seed_and_key(seed, key, shared=None)
            frame = sample_with_estimators(data, graph, n_samples, estimator, key=root_key, kernel=kernel,
                                           bandwidth=bandwidth, bandwidth_scale=bandwidth_scale,
                                           categorical=categorical, smoothing=smoothing, neighbors=neighbors,
                                           return_indices=return_indices)
            frame.attrs["seed"] = used
            return frame
    n_samples, offset = _counts(n_samples, offset)
    smoothing = _smoothing(smoothing)
    shared = "a draw to out=" if out is not None else "a draw shared by the processes of a job" if distributed else None
    used, root_key = _seed_and_key(seed, key, shared=shared)
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
    if distributed:
        frame, index_rows = _process_share(data, graph, n_samples, root_key, offset, options)
    else:
        plan = sampling_plan(data, graph, kernel=kernel, bandwidth=bandwidth, bandwidth_scale=bandwidth_scale,
                             categorical=categorical)
        # Peak host memory per sampled value: int32 index + float32 noise + the float64 output
        # column + one copy when the frame is written out.
        per_row = plan.table.d * (20 + 4 * (smoothing > 0))
        check_memory(n_samples * per_row, f"sampling {n_samples:,} rows × {plan.table.d} columns",
                     "draw fewer samples, or stream them to a directory of parquet parts with out=DIR")
        drawn = _draw(
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
        frame = frame_from_rows(data, drawn.index_rows)
        if drawn.noise is not None:
            _smoothed(frame, data, plan, drawn, smoothing)
        frame.attrs["sampling"] = drawn.stats._asdict()
        index_rows = drawn.index_rows
    frame.attrs["seed"] = used
    return (frame, index_rows) if return_indices else frame
