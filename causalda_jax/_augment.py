"""ADMG causal data augmentation: weighted enumeration of the Markov factorization, in bounded memory.

This module validates the problem, sizes the buffers, runs one compiled step per variable (see
``_expand``) on one device or several, and turns the kept index rows into an AugmentedData.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.sharding import NamedSharding, PartitionSpec

from ._augmented_data import AugmentedData
from ._custom_types import Array, BandwidthSpec, Float, Int
from ._export_cache import cached_jit, to_device
from . import _pruned
from ._expand import SLOT_BLOCK, Training, expand, padded_rows, sharded_step, use_interval
from ._graph import GraphLike
from ._host_step import numpy_step
from ._memory import check_memory
from ._plan import Plan, make_plan
from ._sharding import BATCH_AXIS, batch_mesh

__all__ = ["augment", "AugmentationOverflowError", "empty_reason"]

# Candidates scored per chunk: bounds the (chunk, n) temporaries to a few tens of MB.
_CANDIDATES_PER_CHUNK = 1 << 19
# Default cap on kept rows when the user gives none: about 1 GB of index buffers.
_DEFAULT_BUFFER_BYTES = 1 << 30


class AugmentationOverflowError(MemoryError):
    """More rows survive a step than ``max_rows`` allows."""


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
        chunk_size = max(1, _CANDIDATES_PER_CHUNK // padded_rows(n))
    elif int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    bound = int(plan.row_bound())
    limit = min(bound, int(max_rows))
    rows = 1 << (bound - 1).bit_length() if bound <= int(max_rows) else limit
    # Powers of two, so that the capacity is a multiple of both block sizes at little cost.
    chunk = 1 << (min(int(chunk_size), rows).bit_length() - 1)
    quantum = max(chunk, min(SLOT_BLOCK, 1 << (rows - 1).bit_length()))
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
        devices: ``None`` for every local device of the default backend (as in
            :func:`causalda_jax.sample`), an int k for the first k of them, or a list of devices.
            With several, the kept rows are split across them: each device extends its own rows
            and rows are rebalanced between steps. The result is identical to the one-device
            result. One device takes the cheapest exact path per step (numpy for small steps,
            bound-pruned or full scoring); several run the full scoring on each device.

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
    cap, chunk, limit = _buffer_shape(plan, max_rows, chunk_size)
    d = plan.table.d
    # Two row buffers (index + log-weight) of ``cap`` rows, and a result of up to ``limit`` rows.
    check_memory(2 * cap * (4 * d + 16) + limit * (16 * d + 16), f"augmenting with buffers of {cap:,} rows",
                 "raise threshold, or set max_rows lower")
    config = {**plan.config, "engine": "jax", "chunk_size": chunk, "capacity": cap, "max_rows": limit}
    steps: list[dict] = []
    names = [plan.table.columns[v] for v in plan.order]
    callback = _progress_callback(progress, len(names))

    mesh = batch_mesh(devices)
    with jax.enable_x64(True):
        if mesh.devices.size == 1:
            with jax.default_device(mesh.devices.flat[0]):
                index_rows, log_weights = _run_single(plan, cap, chunk, limit, max_rows, names, callback, steps)
        else:
            index_rows, log_weights = _run_sharded(plan, mesh, cap, chunk, limit, max_rows, names, callback)
    if steps:
        config["steps"] = steps
        total = sum(r["rows_in"] for r in steps) * plan.table.n
        skipped = sum(r.get("pruned_fraction", 0.0) * r["rows_in"] * plan.table.n for r in steps)
        config["pruned_fraction"] = skipped / total if total else 0.0
    return AugmentedData.from_index_rows(data, plan.table.values, index_rows, log_weights, plan.graph, config)


# Steps with at most this many candidates (parent rows × n) run in numpy on the host: below it,
# dispatching a compiled step costs more than the numpy twin's whole step (measured on the
# augment grid, docs/performance.md).
NUMPY_MAX_CANDIDATES = 1 << 18
# Whether compiled steps may take the bound-pruned path.
PRUNE = True
# Parent rows sampled on the host to choose how many leaves the pruned step scores per row.
_PROBE_ROWS = 128


def _run_single(plan, cap, chunk, limit, max_rows, names, callback, steps):
    """One device. Each step takes the cheapest exact path (see ``_choose_path``); ``steps``
    receives one JSON-ready record per step: the path, rows in and out, and pruning counts."""
    n, d = plan.table.n, plan.table.d
    host = (np.zeros((1, d), np.int64), np.zeros(1))  # rows on the host while steps are small
    device = None  # (idx, lw) buffers of ``cap`` rows once a step runs compiled
    kept = 1
    leaves_cache: dict = {}
    for step, (var, pillow) in enumerate(zip(plan.order, plan.pillows)):
        record = {"variable": str(names[step]), "rows_in": kept}
        if kept * n <= NUMPY_MAX_CANDIDATES:
            if host is None:
                host = (np.asarray(device[0])[:kept].astype(np.int64), np.asarray(device[1])[:kept])
            host = numpy_step(plan, *host, var, pillow, max(1, (1 << 19) // n))
            kept = host[0].shape[0]
            record["path"] = "numpy"
        else:
            if device is None:
                idx = np.zeros((cap, d), np.int32)
                lw = np.full(cap, -np.inf)
                idx[:kept], lw[:kept] = host
                device, host = (to_device(idx), to_device(lw)), None
                # Moved to the device only when a step first runs compiled.
                train = _training(plan, to_device)
                log_threshold = to_device(plan.log_threshold, jnp.float64)
            count = to_device(kept, jnp.int64)
            path, leaves = _choose_path(plan, pillow, device, kept, leaves_cache)
            record["path"] = path
            if path == "pruned":
                data, m = leaves
                *device, count, failed = _pruned.pruned_step(train, pillow, to_device(var, jnp.int32), *device, count,
                                                             log_threshold, data, kernel=plan.kernel, leaves=m,
                                                             full_chunk=chunk)
                failed = int(failed)
                scored = (kept - failed) * m * data.leaf + failed * n
                record.update(leaves_scored=m, leaves=data.n_leaves, leaf_size=data.leaf, fallback_rows=failed,
                              pruned_fraction=1.0 - scored / (kept * n))
            else:
                *device, count = expand(train, pillow, to_device(var, jnp.int32), *device, count, log_threshold,
                                        kernel=plan.kernel, chunk=chunk, interval_step=path == "interval")
            kept = int(count)
        record["rows_out"] = kept
        steps.append(record)
        if kept > limit:
            _raise_overflow(plan, kept, limit, names[step], max_rows)
        callback(step, names[step], kept)
        if kept == 0:
            warnings.warn(empty_reason(plan, names[step]), stacklevel=3)
            break
    if host is not None:
        return host[0].astype(np.int32), host[1]
    # Sliced on the host: a device slice of ``kept`` rows is a new compiled program per count.
    return np.asarray(device[0])[:kept], np.asarray(device[1])[:kept]


def _training(plan: Plan, put) -> Training:
    """The training table padded to its row bucket (``padded_rows``), moved by ``put``."""
    n, d = plan.table.n, plan.table.d
    x = np.zeros((padded_rows(n), d), plan.table.values.dtype)
    x[:n] = plan.table.values
    return Training(put(x), put(plan.h), put(plan.table.is_categorical), put(np.int32(n)))


@cached_jit
def _take_rows(idx: Int[Array, "cap d"], lw: Float[Array, " cap"], rows: Int[Array, " p"]):
    return idx[rows], lw[rows]


def _choose_path(plan, pillow, device, kept, cache):
    """``("interval" | "pruned" | "scored", (leaves, M) or None)`` for one compiled step.

    Roots, and one-column pillows with at least as many rows as training rows, take the interval step. Other
    steps take the pruned step when scoring ``M`` leaves per row (chosen on probe rows, fallbacks
    included) is expected to cost less than the full scan, else the scored step.
    """
    if use_interval(pillow, plan.table.n, kept):
        return "interval", None
    if not PRUNE or not math.isfinite(plan.log_threshold):
        return "scored", None
    if pillow not in cache:
        cache[pillow] = _pruned.make_leaves(plan.table.values, plan.table.is_categorical, pillow,
                                            padded_rows(plan.table.n))
    data = cache[pillow]
    if data.n_leaves < 4:
        return "scored", None
    # A fixed number of probe positions (repeats when kept < _PROBE_ROWS), so that the gather
    # is one cached program; the distinct rows are the probes.
    positions = np.linspace(0, kept - 1, _PROBE_ROWS).astype(np.int32)
    _, first = np.unique(positions, return_index=True)
    idx, lw = (np.asarray(a)[first] for a in _take_rows(*device, to_device(positions)))
    cols = list(pillow)
    x = plan.table.values
    m = _pruned.choose_leaves(data, x[idx[:, cols], cols], lw, x[:, cols], plan.h[cols], plan.table.is_categorical[cols],
                      plan.kernel, plan.log_threshold)
    return ("pruned", (data, m)) if m else ("scored", None)


def _run_sharded(plan, mesh, cap, chunk, limit, max_rows, names, callback):
    """Every device holds up to ``cap`` rows (its rows' weights sum to at most 1, so it cannot
    overflow before the global check); rows are spread evenly again after each step."""
    d = plan.table.d
    n_dev = mesh.devices.size
    rows = NamedSharding(mesh, PartitionSpec(BATCH_AXIS))
    replicated = NamedSharding(mesh, PartitionSpec())
    put = lambda a: jax.device_put(a, replicated)  # noqa: E731
    train = _training(plan, put)
    log_threshold = put(np.float64(plan.log_threshold))
    host_idx = np.zeros((1, d), np.int32)
    host_lw = np.zeros(1)
    kept = 1
    for step, (var, pillow) in enumerate(zip(plan.order, plan.pillows)):
        idx, lw, count = _spread(host_idx, host_lw, n_dev, cap, rows)
        fn = sharded_step(mesh, use_interval(pillow, plan.table.n, kept), plan.kernel, chunk)
        idx, lw, count = fn(train, put(np.asarray(pillow, np.int32)), put(np.int32(var)), idx, lw, count,
                            log_threshold)
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
    if theta_fit < 1:
        fix = f"raise threshold to at least {theta_fit:.3g}, which bounds every step by {cap} rows"
    else:
        # Weights of one step sum to at most 1, so at most 1/θ_eff rows survive: with θ_eff = θ/n
        # and θ < 1 that is more than n rows, which no threshold below 1 can bring under cap.
        fix = (f"no threshold below 1 bounds the steps by {cap} rows with normalize_threshold (at most n/θ rows "
               f"survive); set normalize_threshold=False and threshold ≥ {1.0 / cap:.3g}")
    raise AugmentationOverflowError(
        f"after variable {name!r}, {needed} rows have weight ≥ θ_eff = {plan.threshold_eff:.3g}, more than "
        f"{limit}. Raise max_rows (each row costs about {4 * d + 16} bytes), or {fix}; or draw a fixed number "
        "of samples with causalda_jax.sample"
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
