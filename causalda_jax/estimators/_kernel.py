"""The kernel conditional as an estimator: draw a training value with probability ``∝ w_i K_h(x - X_i)``.

:func:`causalda_jax.sample` draws from this law with its own bounded-memory sampler when every
variable uses the kernel. This estimator serves variables left on the kernel when others use
another estimator: a Gumbel-max over all training rows, in fixed-size blocks of queries.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from .._bandwidth import bandwidth_rule
from .._kernels import KERNELS, log_kernel_matrix
from ._inputs import as_inputs

__all__ = ["FittedKernel", "Kernel", "NoKernelMassError"]

# Queries per compiled block: the (block, n) kernel matrix is the largest temporary.
_BLOCK = 1024


class NoKernelMassError(ValueError):
    """A query has zero kernel value at every training row (exact-match or compact kernels)."""


@partial(jax.jit, static_argnames="kernel")
def _pick_rows(key, z, x, h, is_cat, log_w, *, kernel: str) -> tuple[Int[Array, " b"], Bool[Array, " b"]]:
    log_k = log_kernel_matrix(z / h, x / h, jnp.ones_like(h), is_cat, kernel) + log_w
    score = log_k + jax.random.gumbel(key, log_k.shape, log_k.dtype)
    return jnp.argmax(score, axis=-1), jnp.isfinite(jnp.max(log_k, axis=-1))


class FittedKernel:
    """The fitted kernel conditional: training inputs, targets, weights and bandwidths."""

    def __init__(self, x, y, log_w, h, is_cat, kernel):
        self.x, self.y, self.log_w, self.h, self.is_cat, self.kernel = x, y, log_w, h, is_cat, kernel

    def rows(self, X: ArrayLike, *, key: PRNGKeyArray) -> np.ndarray:
        """The training row drawn for each query row.

        Raises:
            NoKernelMassError: a query has no kernel mass (all its kernel values are zero).
        """
        z = np.asarray(X, np.float32).reshape(len(X), self.x.shape[1])
        m = z.shape[0]
        out = np.zeros(m, np.int64)
        for i, start in enumerate(range(0, m, _BLOCK)):
            block = np.zeros((_BLOCK, z.shape[1]), np.float32)
            part = z[start : start + _BLOCK]
            block[: len(part)] = part
            pick, ok = _pick_rows(jax.random.fold_in(key, i), block, self.x, self.h, self.is_cat, self.log_w,
                                  kernel=self.kernel)
            if not np.asarray(ok)[: len(part)].all():
                raise NoKernelMassError(
                    "some sampled pillow values are never seen together in the training data, so the kernel "
                    "conditional is empty there; use kernel='gaussian' or another estimator for this variable"
                )
            out[start : start + len(part)] = np.asarray(pick)[: len(part)]
        return out

    def sample(self, X: ArrayLike, *, key: PRNGKeyArray) -> Float[Array, " m"]:
        """The target value of the drawn training row, for each query row."""
        return jnp.asarray(self.y)[self.rows(X, key=key)]

    def log_prob(self, X: ArrayLike, y: ArrayLike) -> Array:
        raise NotImplementedError(
            "the kernel conditional draws observed values: its law has no density. Use 'mdn' for log-densities"
        )


class Kernel:
    """The kernel conditional ``P(row i | x) ∝ w_i K_h(x - X_i)``: draws observed target values.

    Args:
        kernel: ``"gaussian"`` or ``"epanechnikov"`` on continuous inputs.
        bandwidth: ``(c,)`` bandwidths of the inputs; default: the normal-reference rule.
        categorical: ``(c,)`` mask of inputs compared by exact match.

    Example:
        >>> import jax, numpy as np
        >>> X = np.array([[0.0], [10.0]]); y = np.array([1.0, 2.0])
        >>> Kernel(bandwidth=[1.0]).fit(X, y, key=jax.random.key(0)).sample(np.array([[9.0]]), key=jax.random.key(1)).tolist()
        [2.0]
    """

    target_kind = "any"
    # The sampler passes raw pillow values (categorical codes, not one-hot columns).
    raw_inputs = True

    def __init__(self, kernel: str = "gaussian", *, bandwidth: ArrayLike | None = None,
                 categorical: ArrayLike | None = None):
        if kernel not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}; use one of {list(KERNELS)}")
        self.kernel = kernel
        self.bandwidth = None if bandwidth is None else np.asarray(bandwidth, np.float32)
        self.categorical = None if categorical is None else np.asarray(categorical, bool)

    def __repr__(self) -> str:
        return f"Kernel({self.kernel!r})"

    def fit(self, X: ArrayLike, y: ArrayLike, weight: ArrayLike | None = None, *, key: PRNGKeyArray) -> FittedKernel:
        """Store the weighted training rows (``key`` is unused: nothing is random in fitting)."""
        Xa, ya, w = as_inputs(X, y, weight)
        c = Xa.shape[1]
        is_cat = np.zeros(c, bool) if self.categorical is None else self.categorical
        if self.bandwidth is None:
            # A constant column gets bandwidth 1 rather than 0.
            h = np.array([1.0 if is_cat[j] else bandwidth_rule(Xa[:, j].astype(np.float64), "normal_reference") or 1.0
                          for j in range(c)])
        else:
            h = self.bandwidth
        if h.shape != (c,) or is_cat.shape != (c,):
            raise ValueError(f"bandwidth and categorical must have one entry per input column ({c})")
        with np.errstate(divide="ignore"):
            log_w = np.log(w / w.sum()).astype(np.float32)
        return FittedKernel(jnp.asarray(Xa), ya, jnp.asarray(log_w), jnp.asarray(h, jnp.float32),
                            jnp.asarray(is_cat), self.kernel)
