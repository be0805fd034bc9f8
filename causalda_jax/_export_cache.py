"""An on-disk cache of exported programs, so a second process neither traces nor lowers them.

The persistent compilation cache (:mod:`causalda_jax._compile_cache`) saves the backend compile,
but its key is the lowered module: every process still traces the Python function and lowers
it to StableHLO. :func:`cached_jit` jits an entry point so that, per (function, static
arguments, input shapes and dtypes, platform, JAX version, and a fingerprint of this package's
source, so that a changed library never runs an old program), the first process serializes the
program with :mod:`jax.export` to ``$XDG_CACHE_HOME/causalda-jax/export`` and later processes
deserialize it and call it, without running the Python function. Every call, first or later,
runs the exported program, so results do not depend on the cache's state.

The wrapper calls the plain jitted function instead when the cache is off
(``CAUSALDA_NO_COMPILE_CACHE=1``), under a trace, when an argument is spread over more than
one device, or when a static argument is not a plain value (a device mesh). A file that cannot
be read, or describes another program, is rewritten.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import pickle
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np

from ._compile_cache import DISABLE_ENV, compile_cache_dir

__all__ = ["HIT_EVENT", "LOAD_EVENT", "MISS_EVENT", "cached_jit", "code_fingerprint", "export_cache_dir", "to_device"]

HIT_EVENT = "/causalda/export_cache/hit"
"""``jax.monitoring`` event: an exported program was read from disk (no trace, no lowering)."""
MISS_EVENT = "/causalda/export_cache/miss"
"""``jax.monitoring`` event: a program was exported and written."""
LOAD_EVENT = "/causalda/export_cache/load_duration"
"""``jax.monitoring`` duration: reading and deserializing one exported program."""

# Plain static values: their repr is the same in every process.
_PLAIN = (str, int, float, bool, type(None))


def export_cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/causalda-jax/export``, or ``None`` when ``CAUSALDA_NO_COMPILE_CACHE`` is set.

    Example:
        >>> d = export_cache_dir()
        >>> d is None or d.parts[-2:] == ("causalda-jax", "export")
        True
    """
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    return compile_cache_dir().parent / "export"


@functools.lru_cache(maxsize=None)
def code_fingerprint(root: Path = Path(__file__).parent) -> str:
    """A hash of the Python sources under ``root`` (this package): part of every export key.

    Example:
        >>> len(code_fingerprint())
        16
    """
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def to_device(value, dtype=None) -> jax.Array:
    """``jnp.asarray(value, dtype)`` for host values, as a plain transfer.

    ``jnp.asarray`` of a NumPy array or a Python scalar runs a small compiled program (one per
    shape and dtype), traced and lowered in every process; ``jax.device_put`` copies the
    canonicalized host array (the same values and dtype) without compiling.

    Example:
        >>> to_device([1, 2], jax.numpy.int32).dtype
        dtype('int32')
    """
    return jax.device_put(np.asarray(value, dtype))


def _plain(value) -> bool:
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN)


def _signature(leaves) -> tuple[str, str] | None:
    """Shapes, dtypes and weak types of the array arguments, and their platform (``"cpu"``,
    ``"cuda"``...); ``None`` when one does not fit."""
    parts = []
    platforms = set()
    for leaf in leaves:
        if isinstance(leaf, jax.core.Tracer):
            return None
        if isinstance(leaf, jax.Array):
            if len(leaf.sharding.device_set) > 1 or jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.extended):
                return None
            platforms.add(next(iter(leaf.sharding.device_set)).platform)
            parts.append(f"{leaf.dtype}{list(leaf.shape)}{'w' if leaf.weak_type else ''}")
        elif isinstance(leaf, np.ndarray | np.generic):
            parts.append(f"{leaf.dtype}{list(leaf.shape)}")
        else:
            return None  # Python scalars: weak types, left to the plain function
    if len(platforms) > 1:
        return None
    # Host arrays run on the default backend; device arrays on theirs (which may not be the default).
    return ",".join(parts), platforms.pop() if platforms else jax.default_backend()


def _avals(avals) -> list:
    return [[list(a.shape), str(a.dtype), bool(a.weak_type)] for a in avals]


def _tree_bytes(tree) -> str:
    # Pickle, not JAX's protocol buffers, which cannot hold NamedTuple nodes. Reading a pickle
    # from the user's cache trusts that folder exactly as far as the persistent compilation
    # cache next to it, whose files are native code that JAX loads and runs.
    return base64.b64encode(pickle.dumps(tree)).decode()


def _tree(data: str):
    return pickle.loads(base64.b64decode(data))


def _to_bytes(exported: jax.export.Exported) -> bytes | None:
    """A JSON header and the StableHLO bytecode; ``None`` for a program with shardings or effects.

    (``Exported.serialize`` would need the optional ``flatbuffers`` package.)
    """
    trivial = (
        exported.nr_devices == 1
        and not exported.ordered_effects
        and not exported.unordered_effects
        and not exported.disabled_safety_checks
        and all(s is None for s in (*exported.in_shardings_hlo, *exported.out_shardings_hlo))
    )
    if not trivial:
        return None
    header = {
        "fun_name": exported.fun_name,
        "in_tree": _tree_bytes(exported.in_tree),
        "out_tree": _tree_bytes(exported.out_tree),
        "in_avals": _avals(exported.in_avals),
        "out_avals": _avals(exported.out_avals),
        "platforms": list(exported.platforms),
        "calling_convention_version": exported.calling_convention_version,
        "module_kept_var_idx": list(exported.module_kept_var_idx),
        "uses_global_constants": exported.uses_global_constants,
        "sha256": hashlib.sha256(exported.mlir_module_serialized).hexdigest(),
    }
    head = json.dumps(header).encode()
    return len(head).to_bytes(8, "little") + head + bytes(exported.mlir_module_serialized)


def _from_bytes(data: bytes) -> jax.export.Exported:
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    in_avals, out_avals = (
        tuple(jax.core.ShapedArray(tuple(shape), np.dtype(dtype), weak_type=weak) for shape, dtype, weak in header[k])
        for k in ("in_avals", "out_avals")
    )
    module = data[8 + size :]
    if hashlib.sha256(module).hexdigest() != header["sha256"]:
        raise ValueError("damaged export cache file")
    n_in, n_out = (None,) * len(in_avals), (None,) * len(out_avals)
    return jax.export.Exported(
        fun_name=header["fun_name"],
        in_tree=_tree(header["in_tree"]),
        in_avals=in_avals,
        out_tree=_tree(header["out_tree"]),
        out_avals=out_avals,
        _has_named_shardings=True,
        _in_named_shardings=n_in,
        _out_named_shardings=n_out,
        in_shardings_hlo=n_in,
        out_shardings_hlo=n_out,
        nr_devices=1,
        platforms=tuple(header["platforms"]),
        ordered_effects=(),
        unordered_effects=(),
        disabled_safety_checks=(),
        mlir_module_serialized=module,
        calling_convention_version=header["calling_convention_version"],
        module_kept_var_idx=tuple(header["module_kept_var_idx"]),
        uses_global_constants=header["uses_global_constants"],
        _get_vjp=None,
    )


def _load(path: Path, name: str, platform: str) -> jax.export.Exported | None:
    start = time.perf_counter()
    try:
        exported = _from_bytes(path.read_bytes())
    except Exception:  # missing, corrupt or stale: export again and overwrite it
        return None
    if exported.fun_name != name or exported.platforms != (platform,):
        return None
    jax.monitoring.record_event_duration_secs(LOAD_EVENT, time.perf_counter() - start)
    return exported


def _store(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a concurrent process never reads half a file.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
            f.write(data)
        os.replace(f.name, path)
    except OSError:
        pass  # a read-only cache: run without writing


def _matches(exported: jax.export.Exported, leaves) -> bool:
    return [(a.shape, a.dtype) for a in exported.in_avals] == [(np.shape(x), x.dtype) for x in leaves]


def cached_jit(fun: Callable, *, static_argnames: tuple[str, ...] | str = ()) -> Callable:
    """``jax.jit(fun, static_argnames=...)``, with its exported program cached on disk per signature.

    Args:
        fun: a function whose positional arguments are arrays (or pytrees of arrays) and whose
            keyword arguments are all static.
        static_argnames: the names of ``fun``'s static keyword arguments.

    Returns:
        A function with ``fun``'s signature and results.

    Example:
        >>> import jax.numpy as jnp
        >>> from functools import partial
        >>> @partial(cached_jit, static_argnames=("power",))
        ... def pow_sum(x, *, power):
        ...     return (x**power).sum()
        >>> float(pow_sum(jnp.arange(4.0), power=2))
        14.0
    """
    static = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    jitted = jax.jit(fun, static_argnames=static)
    name = fun.__name__
    qualified = f"{fun.__module__}.{fun.__qualname__}"
    loaded: dict[str, Callable] = {}

    def program(path: Path, platform: str, leaves, args, kwargs) -> tuple[Callable, bool]:
        exported = _load(path, name, platform)
        if exported is not None and _matches(exported, leaves):
            jax.monitoring.record_event(HIT_EVENT)
            return jax.jit(exported.call), True
        jax.monitoring.record_event(MISS_EVENT)
        exported = jax.export.export(jitted, platforms=(platform,))(*args, **kwargs)
        try:
            data = _to_bytes(exported)
            # Run what a later process reads back: the same module, the same compiled kernel.
            back = None if data is None else _from_bytes(data)
        except Exception:  # a pytree or a JAX version this file format cannot describe: no file
            data = back = None
        if back is None:
            return functools.partial(jitted, **kwargs), False
        _store(path, data)
        return jax.jit(back.call), False

    @functools.wraps(fun)
    def wrapper(*args, **kwargs):
        directory = export_cache_dir()
        if directory is None or set(kwargs) - set(static) or not _plain(tuple(kwargs.values())):
            return jitted(*args, **kwargs)
        leaves, tree = jax.tree_util.tree_flatten(args)
        signature = _signature(leaves)
        if signature is None:
            return jitted(*args, **kwargs)
        shapes, platform = signature
        key = "|".join(
            (qualified, repr(sorted(kwargs.items())), str(tree), shapes, platform, jax.__version__,
             str(jax.config.jax_enable_x64), code_fingerprint())
        )  # fmt: skip
        call = loaded.get(key)
        if call is not None:
            return call(*args)
        path = directory / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.bin"
        call, from_disk = program(path, platform, leaves, args, kwargs)
        try:
            out = call(*args)
        except Exception:
            if not from_disk:
                raise
            path.unlink(missing_ok=True)  # deserialized but does not lower: export again
            call, _ = program(path, platform, leaves, args, kwargs)
            out = call(*args)
        loaded[key] = call
        return out

    def clear_cache() -> None:
        """Forget the programs loaded in this process (the files stay)."""
        loaded.clear()
        jitted.clear_cache()

    wrapper.clear_cache = clear_cache
    return wrapper
