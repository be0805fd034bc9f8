"""Product kernels in log space and the kernel-conditional weight matrices built from them.

A conditional weight is ``w_i(z) = K_h(z_C - X_i^C) / sum_k K_h(z_C - X_k^C)``. Working with
``log K`` and a log-sum-exp keeps it exact where linear-space kernels underflow (small
bandwidths, many conditioning columns). Normalising constants of the kernels cancel in the
ratio and are dropped.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._custom_types import Array, Bool, Float

__all__ = ["KERNELS", "log_kernel_matrix", "log_conditional_weights"]

KERNELS = ("gaussian", "epanechnikov")


def _log_profile(u: Float[Array, "..."], kernel: str) -> Float[Array, "..."]:
    if kernel == "gaussian":
        return -0.5 * u * u
    if kernel == "epanechnikov":
        inside = 1.0 - u * u
        # log(0) = -inf outside the support; the where keeps the gradient finite inside.
        safe = jnp.where(inside > 0, inside, 1.0)
        return jnp.where(inside > 0, jnp.log(safe), -jnp.inf)
    raise ValueError(f"unknown kernel {kernel!r}; use one of {list(KERNELS)}")


def log_kernel_matrix(
    z: Float[Array, "b c"],
    x: Float[Array, "n c"],
    h: Float[Array, " c"],
    is_categorical: Bool[Array, " c"],
    kernel: str = "gaussian",
) -> Float[Array, "b n"]:
    """``log K_h(z_b - x_i)`` for a batch of query rows against every training row.

    Continuous columns use the chosen kernel on ``(z - x) / h``; categorical columns use an
    exact match (``0`` when equal, ``-inf`` otherwise). With no columns (``c = 0``) every
    entry is 0, which makes the conditional uniform.

    Example:
        >>> import jax.numpy as jnp
        >>> log_kernel_matrix(jnp.zeros((1, 1)), jnp.array([[0.0], [1.0]]), jnp.ones(1),
        ...                   jnp.zeros(1, bool)).tolist()
        [[0.0, -0.5]]
    """
    # One column at a time: XLA fuses each into a single pass over (b, n), where a
    # (b, n, c) broadcast with a reduction over the short last axis runs tens of times slower.
    total = jnp.zeros((z.shape[0], x.shape[0]), jnp.result_type(z, x, h))
    for j in range(z.shape[1]):
        total = total + _log_term(z[:, j, None] - x[None, :, j], h[j], is_categorical[j], kernel)
    return total


def _log_term(diff, h, is_categorical, kernel: str):
    """One column's ``log K`` from its differences: the kernel profile, or an exact match."""
    continuous = _log_profile(diff / h, kernel)
    categorical = jnp.where(diff == 0, 0.0, -jnp.inf)
    return jnp.where(is_categorical, categorical, continuous)


def log_conditional_weights(log_k: Float[Array, "b n"]) -> Float[Array, "b n"]:
    """Normalise each row of a log-kernel matrix: ``log w_i = log K_i - logsumexp_k log K_k``.

    A row whose kernel values are all zero (possible with compact or exact-match kernels) has
    no conditional; it gets ``-inf`` everywhere, i.e. weight zero.

    Example:
        >>> import jax.numpy as jnp
        >>> jnp.exp(log_conditional_weights(jnp.log(jnp.array([[1.0, 3.0]])))).tolist()
        [[0.25, 0.75]]
    """
    norm = jax.nn.logsumexp(log_k, axis=-1, keepdims=True)
    return jnp.where(jnp.isfinite(norm), log_k - norm, -jnp.inf)


def log_kernel_rows(
    z: Float[Array, "b c"], x: Float[Array, "b t c"], h: Float[Array, " c"], is_categorical: Bool[Array, " c"],
    kernel: str = "gaussian",
) -> Float[Array, "b t"]:
    """``log K_h(z_b - x_bt)``: each query row against its own ``t`` rows (same arithmetic as
    :func:`log_kernel_matrix`, so that both give the same values to the last bit)."""
    total = jnp.zeros(x.shape[:2], jnp.result_type(z, x, h))
    for j in range(z.shape[1]):
        total = total + _log_term(z[:, j, None] - x[:, :, j], h[j], is_categorical[j], kernel)
    return total


def log_kernel_pairs(
    z: Float[Array, "b c"], x: Float[Array, "b c"], h: Float[Array, " c"], is_categorical: Bool[Array, " c"],
    kernel: str = "gaussian",
) -> Float[Array, " b"]:
    """``log K_h(z_b - x_b)``, row by row (same arithmetic as :func:`log_kernel_matrix`, so that
    both give the same values to the last bit)."""
    total = jnp.zeros(z.shape[:1], jnp.result_type(z, x, h))
    for j in range(z.shape[1]):
        total = total + _log_term(z[:, j] - x[:, j], h[j], is_categorical[j], kernel)
    return total


def log_box_bound(
    z: Float[Array, "b c"], lo: Float[Array, "l c"], hi: Float[Array, "l c"], h: Float[Array, " c"],
    is_categorical: Bool[Array, " c"], kernel: str = "gaussian",
) -> Float[Array, "b l"]:
    """An upper bound of ``log K_h(z_b - x)`` over every ``x`` in box ``l``: the kernel at the
    box's nearest point (both kernels decrease with distance in each column). An empty box
    (``lo = +inf``, ``hi = -inf``) gets ``-inf``.

    Example:
        >>> import jax.numpy as jnp
        >>> log_box_bound(jnp.zeros((1, 1)), jnp.array([[-1.0], [2.0]]), jnp.array([[1.0], [3.0]]),
        ...               jnp.ones(1), jnp.zeros(1, bool)).tolist()
        [[0.0, -2.0]]
    """
    total = jnp.zeros((z.shape[0], lo.shape[0]), jnp.result_type(z, lo, h))
    for j in range(z.shape[1]):
        nearest = jnp.minimum(jnp.maximum(z[:, j, None], lo[None, :, j]), hi[None, :, j])
        total = total + _log_term(z[:, j, None] - nearest, h[j], is_categorical[j], kernel)
    return total
