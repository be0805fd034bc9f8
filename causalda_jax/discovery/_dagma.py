"""DAGMA: continuous structure learning with the log-det acyclicity function (Bello, Aragam &
Ravikumar, NeurIPS 2022), jitted end to end.

``h_s(W) = -log det(s I - W * W) + d log s`` is zero exactly on DAGs inside the domain where
``s I - W * W`` is an M-matrix. The central path minimises ``mu * (score + L1) + h_s`` for a
decreasing sequence of ``mu``; here the whole path, outer and inner loops, is one ``lax.scan``
so a fit (or a vmapped batch of bootstrap fits) compiles once.

Knowledge enters as arrays of static shape: ``allowed`` zeroes forbidden and tier-violating
entries, ``penalty`` scales the L1 weight per entry (0 for required edges, ``> 1`` for softly
forbidden ones).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

__all__ = ["DagmaConfig", "fit_linear", "fit_mlp"]


class DagmaConfig(NamedTuple):
    """Hyper-parameters; every field is an array leaf, so changing a value does not retrace.

    Attributes:
        lambda1: L1 weight.
        lambda2: L2 weight on the MLP parameters (unused by the linear model).
        lr: Adam learning rate.
        mus: ``(T,)`` central-path weights of the score, decreasing.
        ss: ``(T,)`` log-det domain parameters ``s``.
    """

    lambda1: Float[Array, ""]
    lambda2: Float[Array, ""]
    lr: Float[Array, ""]
    mus: Float[Array, " T"]
    ss: Float[Array, " T"]

    @classmethod
    def make(cls, *, lambda1=0.02, lambda2=0.005, lr=0.02, n_mu=4, mu_init=1.0, mu_factor=0.1, s=(1.0, 0.9, 0.8, 0.7)):
        s = list(s) + [s[-1]] * max(0, n_mu - len(s))
        f32 = jnp.float32
        return cls(
            jnp.asarray(lambda1, f32),
            jnp.asarray(lambda2, f32),
            jnp.asarray(lr, f32),
            jnp.asarray([mu_init * mu_factor**t for t in range(n_mu)], f32),
            jnp.asarray(s[:n_mu], f32),
        )


def _in_domain(m_inv: Float[Array, "d d"]) -> Array:
    # A Z-matrix s I - A (A >= 0) is in the DAGMA domain iff it is a non-singular M-matrix iff
    # its inverse is entrywise non-negative.
    return jnp.all(jnp.isfinite(m_inv)) & jnp.all(m_inv >= -1e-6)


def _path(loss_and_grad, adjacency_sq, params, config: DagmaConfig, n_steps: int):
    """Run the central path; ``adjacency_sq(params)`` is the entrywise-square weighted adjacency."""
    adam = optax.scale_by_adam()
    d = adjacency_sq(params).shape[0]
    eye = jnp.eye(d, dtype=jnp.float32)

    def outer(params, mu_s):
        mu, s = mu_s
        state = adam.init(params)

        def inner(carry, _):
            params, state, scale, m_inv = carry
            _, g_score = loss_and_grad(params)
            # d h / d A = (s I - A)^{-T}; the inverse is already known from the domain check,
            # so the acyclicity gradient costs one vector-Jacobian product and no extra solve.
            _, pullback = jax.vjp(adjacency_sq, params)
            (g_h,) = pullback(m_inv.T)
            grads = jax.tree.map(lambda a, b: mu * a + b, g_score, g_h)
            updates, new_state = adam.update(grads, state, params)
            proposal = jax.tree.map(lambda p, u: p - config.lr * scale * u, params, updates)
            new_inv = jnp.linalg.inv(s * eye - adjacency_sq(proposal))
            ok = _in_domain(new_inv)
            # Leaving the domain: keep the old point and halve the step (DAGMA's backtracking).
            keep = lambda new, old: jnp.where(ok, new, old)  # noqa: E731
            params = jax.tree.map(keep, proposal, params)
            state = jax.tree.map(keep, new_state, state)
            return (params, state, jnp.where(ok, scale, 0.5 * scale), keep(new_inv, m_inv)), None

        m_inv = jnp.linalg.inv(s * eye - adjacency_sq(params))
        carry = (params, state, jnp.float32(1.0), m_inv)
        (params, _, _, _), _ = jax.lax.scan(inner, carry, None, length=n_steps)
        return params, None

    params, _ = jax.lax.scan(outer, params, (config.mus, config.ss))
    return params


def fit_linear(
    cov: Float[Array, "d d"],
    allowed: Float[Array, "d d"],
    penalty: Float[Array, "d d"],
    config: DagmaConfig,
    *,
    n_steps: int = 1500,
) -> Float[Array, "d d"]:
    """Linear DAGMA on a covariance matrix; ``W[i, j]`` is the weight of ``i -> j``.

    The least-squares score ``||X - X W||^2 / 2n`` equals ``tr((I - W)^T S (I - W)) / 2`` with
    ``S = X^T X / n`` (centred data), so a step costs ``O(d^3)`` whatever the number of rows.
    Call it through ``jax.jit(fit_linear, static_argnames="n_steps")`` or :func:`linear_fitter`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=1000); b = 2 * a + rng.normal(size=1000)
        >>> x = np.c_[a, b]; cov = jnp.asarray(x.T @ x / 1000, jnp.float32)
        >>> off = 1 - jnp.eye(2)
        >>> w = linear_fitter(300)(cov, off, off, DagmaConfig.make())
        >>> bool(abs(w[0, 1]) > 1.0)
        True
    """
    d = cov.shape[0]
    eye = jnp.eye(d, dtype=jnp.float32)
    cov = cov.astype(jnp.float32)
    allowed = allowed.astype(jnp.float32)
    penalty = penalty.astype(jnp.float32)

    def masked(w):
        return w * allowed

    def loss_grad(w):
        wm = masked(w)
        resid = eye - wm
        score = 0.5 * jnp.trace(resid.T @ cov @ resid)
        g = (-(cov @ resid) + config.lambda1 * penalty * jnp.sign(wm)) * allowed
        return score, g

    w = jnp.zeros((d, d), jnp.float32)
    w = _path(loss_grad, lambda w: masked(w) ** 2, w, config, n_steps)
    return masked(w)


class MLPParams(NamedTuple):
    w1: Float[Array, "d m d"]  # [target, hidden, input]
    b1: Float[Array, "d m"]
    w2: Float[Array, "d m"]
    b2: Float[Array, " d"]


def fit_mlp(
    x: Float[Array, "n d"],
    allowed: Float[Array, "d d"],
    penalty: Float[Array, "d d"],
    config: DagmaConfig,
    key: Array,
    *,
    hidden: int = 10,
    n_steps: int = 1500,
) -> Float[Array, "d d"]:
    """Nonlinear DAGMA: one sigmoid MLP per variable; returns ``A[i, j] = ||first-layer weights of
    input i in the MLP of j||_2``, the strength of ``i -> j``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=200); b = np.sin(2 * a) + 0.2 * rng.normal(size=200)
        >>> off = 1 - jnp.eye(2)
        >>> fit = jax.jit(fit_mlp, static_argnames=("hidden", "n_steps"))
        >>> a_hat = fit(jnp.asarray(np.c_[a, b], jnp.float32), off, off, DagmaConfig.make(), jax.random.key(0), n_steps=50)
        >>> a_hat.shape, bool(a_hat[0, 0] == 0 and a_hat[1, 1] == 0)
        ((2, 2), True)
    """
    n, d = x.shape
    x = x.astype(jnp.float32)
    allowed = allowed.astype(jnp.float32)
    penalty = penalty.astype(jnp.float32)
    # w1[j, :, i] feeds input i into the MLP of target j, so it is masked by allowed[i, j].
    mask1 = allowed.T[:, None, :]
    pen1 = penalty.T[:, None, :]
    # As in DAGMA's reference code: first layer at zero (the empty graph, inside the domain for
    # every s), random output layer so that the first-layer gradient is not zero.
    params = MLPParams(
        jnp.zeros((d, hidden, d), jnp.float32),
        jnp.zeros((d, hidden), jnp.float32),
        jax.random.uniform(key, (d, hidden), jnp.float32, -1.0 / jnp.sqrt(hidden), 1.0 / jnp.sqrt(hidden)),
        jnp.zeros((d,), jnp.float32),
    )

    def adjacency_sq(p):
        return jnp.sum((p.w1 * mask1) ** 2, axis=1).T

    def loss(p):
        w1 = p.w1 * mask1
        # One (n, d) @ (d, d * hidden) product for all first layers: a single GEMM on CPU.
        pre = (x @ w1.reshape(d * hidden, d).T).reshape(n, d, hidden) + p.b1
        out = jnp.sum(jax.nn.sigmoid(pre) * p.w2, axis=-1) + p.b2
        mse = 0.5 * jnp.sum((x - out) ** 2) / n
        l1 = config.lambda1 * jnp.sum(pen1 * jnp.abs(w1))
        l2 = 0.5 * config.lambda2 * (jnp.sum(w1**2) + jnp.sum(p.w2**2))
        return mse + l1 + l2

    params = _path(jax.value_and_grad(loss), adjacency_sq, params, config, n_steps)
    return jnp.sqrt(adjacency_sq(params))


def linear_fitter(n_steps: int, batched: bool = False):
    """A jitted :func:`fit_linear` (vmapped over a leading batch axis of ``cov``, ``allowed``
    and ``penalty`` when ``batched``)."""
    fn = functools.partial(fit_linear, n_steps=n_steps)
    if batched:
        fn = jax.vmap(fn, in_axes=(0, 0, 0, None))
    return _cached_jit(("linear", n_steps, batched), fn)


def mlp_fitter(n_steps: int, hidden: int, batched: bool = False):
    """A jitted :func:`fit_mlp` (vmapped over ``x``, ``allowed``, ``penalty`` and ``key`` when ``batched``)."""
    fn = functools.partial(fit_mlp, hidden=hidden, n_steps=n_steps)
    if batched:
        fn = jax.vmap(fn, in_axes=(0, 0, 0, None, 0))
    return _cached_jit(("mlp", n_steps, hidden, batched), fn)


_JITTED: dict = {}


def _cached_jit(tag, fn):
    # One jitted callable per static configuration, so repeated discover() calls reuse the
    # compiled executable instead of re-jitting a fresh lambda.
    if tag not in _JITTED:
        _JITTED[tag] = jax.jit(fn)
    return _JITTED[tag]
