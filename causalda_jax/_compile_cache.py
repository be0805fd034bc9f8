"""JAX's persistent compilation cache in a user cache directory, so a second process does not recompile.

Importing the package calls :func:`enable_compile_cache` (before JAX is imported, through the
environment, so the command-line tool still starts without JAX): compiled kernels are written to
``$XDG_CACHE_HOME/causalda-jax/jax`` (``~/.cache/causalda-jax/jax`` without it) and read back by
later processes, so a second ``causalda sample`` or ``augment`` on the same file (or a file of a
nearby size: row counts are padded to a few buckets per power of two) spends its time
running, not compiling. Set ``CAUSALDA_NO_COMPILE_CACHE=1`` to opt out; a cache directory the
user gave JAX already (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``) is kept as it is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["DISABLE_ENV", "bucket", "compile_cache_dir", "enable_compile_cache"]

DISABLE_ENV = "CAUSALDA_NO_COMPILE_CACHE"
"""Environment variable: any value but ``""`` or ``"0"`` turns the persistent cache off."""

# Kernels compiling faster than this are not written: reading an entry back costs a few ms.
_MIN_COMPILE_S = 0.05


def compile_cache_dir() -> Path:
    """The default cache directory: ``$XDG_CACHE_HOME/causalda-jax/jax`` or ``~/.cache/causalda-jax/jax``.

    Example:
        >>> compile_cache_dir().parts[-2:]
        ('causalda-jax', 'jax')
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "causalda-jax" / "jax"


def enable_compile_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache in :func:`compile_cache_dir`, unless opted out.

    Before JAX is imported this sets ``JAX_COMPILATION_CACHE_DIR`` (and the minimum compile
    time worth caching) in the environment, which JAX reads at import and worker processes
    inherit; after, it updates ``jax.config``. A cache directory the user already gave JAX (by
    that variable, even empty, or in ``jax.config``) is left alone. Called once when the
    package is imported; affects compilations that follow.

    Returns:
        The cache directory in use, or ``None`` when the cache is off (opted out, turned off by
        the user, or the directory cannot be created).

    Example:
        >>> import os
        >>> enable_compile_cache() is None or os.environ.get(DISABLE_ENV) in (None, "", "0")
        True
    """
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    jax = sys.modules.get("jax")
    if jax is not None and jax.config.jax_compilation_cache_dir:
        return Path(jax.config.jax_compilation_cache_dir)
    if jax is None and "JAX_COMPILATION_CACHE_DIR" in os.environ:
        given = os.environ["JAX_COMPILATION_CACHE_DIR"]
        return Path(given) if given else None
    path = compile_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home: run without the cache
    if jax is not None:
        jax.config.update("jax_compilation_cache_dir", str(path))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", _MIN_COMPILE_S)
    else:
        os.environ["JAX_COMPILATION_CACHE_DIR"] = str(path)
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(_MIN_COMPILE_S))
    return path


def bucket(size: int, multiple: int) -> int:
    """``size`` rounded up to one of 8 sizes per power of two, then to a multiple of ``multiple``.

    Arrays padded to a bucket (with the padding masked) give one compiled kernel, and one cache
    entry, for every size in the bucket, at a cost of at most 1/8 more rows.

    Example:
        >>> bucket(100_000, 2048), bucket(99_000, 2048), bucket(5, 8)
        (106496, 106496, 8)
    """
    size = max(int(size), 1)
    step = 1 << max(0, (size - 1).bit_length() - 4)
    rounded = -(-size // step) * step
    return max(1, -(-rounded // multiple)) * multiple
