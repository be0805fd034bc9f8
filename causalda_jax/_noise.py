"""Counter-based noise for the sampler: every random word is a hash of (key, sample, counter).

A stateful generator (or ``jax.random.split`` along the batch) ties a sample's noise to its
position in a chunk, so the draws would change with the chunk size, the row blocking and the
number of devices. Here each word is the Threefry 2x32 block cipher (the one behind
``jax.random``) of a counter under a key: the sample's index is one half of the counter and
the leaf, row or a fixed slot the other, and the key is per variable. Any sample's noise is
therefore the same wherever and in whatever batch it is computed, and a process can draw any
contiguous range of samples on its own (``offset``) with no communication.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import NamedTuple, TypeVar

import jax
import jax.numpy as jnp

from ._custom_types import Array, Float, Int

__all__ = [
    "ROOT_COUNTER",
    "NOISE_COUNTER",
    "SampleWords",
    "column_keys",
    "round_keys",
    "gumbel",
    "gumbel_from_bits",
    "hash_pairs",
    "kernel_noise",
    "materialized",
    "pair_gumbels",
    "sample_words",
    "uniform_index",
]

# Counters outside the range of training-row pairs, for the per-sample words of every variable.
ROOT_COUNTER = 0xFFFFFFFF
NOISE_COUNTER = 0xFFFFFFFE

T = TypeVar("T")


def _rotl(x: Array, r: int) -> Array:
    return (x << jnp.uint32(r)) | (x >> jnp.uint32(32 - r))


def hash_pairs(k0: Array, k1: Array, s: Array, m: Array) -> tuple[Array, Array]:
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


def gumbel_from_bits(bits: Int[Array, "..."]) -> Float[Array, "..."]:
    """Standard Gumbel noise ``-log E`` with ``E = -log(1 - V)`` exponential, ``V`` uniform.

    ``V`` is formed as ``bits · 2^-32`` in float32, which is finely resolved near 0, where the
    small exponentials (large Gumbels, the winners of the argmax) live.
    """
    v = (bits.astype(jnp.float32) + 0.5) * jnp.float32(2.0**-32)
    v = jnp.minimum(v, jnp.float32(1.0 - 2.0**-24))
    return -jnp.log(-jnp.log1p(-v))


def gumbel(k: Int[Array, " 2"], s: Int[Array, " b"], m: Int[Array, "b t"]) -> Float[Array, "b t"]:
    """Gumbel noise for the counters ``m`` (one cipher call each) of samples ``s``."""
    return gumbel_from_bits(hash_pairs(k[0], k[1], s[:, None], m.astype(jnp.uint32))[0])


def pair_gumbels(
    k: Int[Array, " 2"], s: Int[Array, " b"], m: Int[Array, "b t"]
) -> tuple[Float[Array, "b t"], Float[Array, "b t"]]:
    """Gumbel noise for rows ``2m`` and ``2m + 1``: the two words of one cipher call each."""
    y0, y1 = hash_pairs(k[0], k[1], s[:, None], m.astype(jnp.uint32))
    return gumbel_from_bits(y0), gumbel_from_bits(y1)


def materialized(make: Callable[[], T], like: T, trips: Int[Array, ""]) -> T:
    """``make()``, computed into a buffer of its own rather than fused into its consumer.

    XLA's CPU backend fuses the hash into the reduction that consumes it, as one loop that it
    does not vectorise (~7x slower). The value of a loop whose trip count is traced (``trips``
    is 1 at run time) must be materialised.
    """
    return jax.lax.fori_loop(0, trips, lambda i, carry: make(), like)


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


def uniform_index(y0: Int[Array, "..."], y1: Int[Array, "..."], n: Int[Array, ""]) -> Int[Array, "..."]:
    """``floor(u · n)`` for the 64-bit fraction ``u = (y0·2^32 + y1) / 2^64``: bias below n / 2^64."""
    n = n.astype(jnp.uint32)
    h0, l0 = _mul_wide(y0, n)
    h1, _ = _mul_wide(y1, n)
    carry = ((l0 + h1) < l0).astype(jnp.uint32)
    return (h0 + carry).astype(jnp.int32)


def kernel_noise(y0: Int[Array, "..."], y1: Int[Array, "..."], kernel: str) -> Float[Array, "..."]:
    """A draw from the kernel's density per pair of random words."""
    u0 = (y0.astype(jnp.float32) + 0.5) * jnp.float32(2.0**-32)
    if kernel == "gaussian":
        # Box-Muller.
        u1 = y1.astype(jnp.float32) * jnp.float32(2.0**-32)
        return jnp.sqrt(-2.0 * jnp.log(u0)) * jnp.cos(jnp.float32(2 * math.pi) * u1)
    # Epanechnikov by inverting its CDF (2 + 3x - x^3) / 4: x = 2 sin(asin(2p - 1) / 3).
    p = jnp.clip(2.0 * u0 - 1.0, -1.0, 1.0)
    return 2.0 * jnp.sin(jnp.arcsin(p) / 3.0)


class SampleWords(NamedTuple):
    """The random words of each sample that do not depend on its choices, for every column.

    Attributes:
        root_pick: ``(b, d)`` a uniformly chosen training row (used where the column is a root).
        noise: ``(b, d)`` kernel noise (used with smoothing), or ``None`` without smoothing.
    """

    root_pick: Int[Array, "b d"]
    noise: Float[Array, "b d"] | None


def sample_words(
    col_keys: Int[Array, "d 2 2"], s: Int[Array, " b"], n_rows: Int[Array, ""], *, kernel: str, smooth: bool
) -> SampleWords:
    """:class:`SampleWords` for samples ``s``, hashed at the counters :data:`ROOT_COUNTER` and :data:`NOISE_COUNTER`.

    Every column at once: one cipher call per (sample, column, counter) under the column's
    leaf-choice key.
    """
    d = col_keys.shape[0]
    counters = jnp.tile(jnp.array([ROOT_COUNTER, NOISE_COUNTER], jnp.uint32), d)
    k0, k1 = (jnp.repeat(col_keys[:, 0, w], 2)[None] for w in (0, 1))
    y0, y1 = hash_pairs(k0, k1, s[:, None], counters[None])
    root_pick = uniform_index(y0[:, 0::2], y1[:, 0::2], n_rows)
    noise = kernel_noise(y0[:, 1::2], y1[:, 1::2], kernel) if smooth else None
    return SampleWords(root_pick, noise)


@partial(jax.jit, static_argnames="d")
def column_keys(key, *, d: int) -> Int[Array, "d 2 2"]:
    """Two raw keys per column (leaf choice, row choice), derived from ``key``."""

    def column(j):
        return jax.random.key_data(jax.random.split(jax.random.fold_in(key, j)))

    return jax.vmap(column)(jnp.arange(d, dtype=jnp.uint32))


def round_keys(key_data: Int[Array, " 2"], round_: Int[Array, ""], *, d: int) -> Int[Array, "d 2 2"]:
    """:func:`column_keys` of the raw key ``key_data`` folded with the redraw round (traced inside
    the compiled draw, so that no program of its own is compiled in each process)."""
    key = jax.random.wrap_key_data(key_data, impl="threefry2x32")
    return column_keys(jax.random.fold_in(key, round_), d=d)
