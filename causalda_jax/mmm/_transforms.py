"""Media transforms: carry-over (adstock) and diminishing returns (saturation).

All transforms are pure, jittable functions over a time axis 0. They broadcast over any
trailing channel axes, so one call transforms a ``(weeks, channels)`` matrix with one
parameter per channel.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

__all__ = [
    "geometric_adstock",
    "delayed_adstock",
    "hill",
    "logistic_saturation",
    "fit_geometric_decay",
]


@jax.jit
def geometric_adstock(x: Float[ArrayLike, "t ..."], decay: Float[ArrayLike, "..."]) -> Float[Array, "t ..."]:
    """Geometric carry-over ``a_t = x_t + decay * a_{t-1}`` with ``a_{-1} = 0``.

    Equivalently ``a_t = sum_{l <= t} decay**l x_{t-l}``. The sum of the weights is
    ``1 / (1 - decay)``; it is not normalised, so a channel's adstock is in spend units
    times the average number of weeks a unit keeps working.

    Args:
        x: spends, time on axis 0.
        decay: retention per week in ``[0, 1)``, broadcast against ``x[0]``.

    Example:
        >>> geometric_adstock(jnp.array([1.0, 0.0, 0.0]), 0.5).tolist()
        [1.0, 0.5, 0.25]
    """
    x = jnp.asarray(x)
    decay = jnp.broadcast_to(jnp.asarray(decay, x.dtype), x.shape[1:])

    def step(carry, xt):
        carry = xt + decay * carry
        return carry, carry

    _, out = jax.lax.scan(step, jnp.zeros(x.shape[1:], x.dtype), x)
    return out


def delayed_adstock(
    x: Float[ArrayLike, "t ..."],
    decay: Float[ArrayLike, "..."],
    delay: Float[ArrayLike, "..."],
    max_lag: int = 13,
    normalize: bool = True,
) -> Float[Array, "t ..."]:
    """Carry-over whose peak comes ``delay`` weeks after the spend.

    Weights ``w_l = decay ** ((l - delay) ** 2)`` for ``l = 0 .. max_lag - 1``
    (Jin et al. 2017, the form used by PyMC-Marketing), divided by their sum when
    ``normalize``; then ``a_t = sum_l w_l x_{t-l}`` with zeros before the first week.

    Args:
        x: spends, time on axis 0.
        decay: retention in ``(0, 1)``.
        delay: lag of the peak effect, in weeks.
        max_lag: number of lags kept (static).
        normalize: make the weights sum to one.

    Example:
        >>> a = delayed_adstock(jnp.array([1.0, 0.0, 0.0, 0.0]), 0.5, 1.0, max_lag=3, normalize=False)
        >>> a.tolist()
        [0.5, 1.0, 0.5, 0.0]
    """
    return _delayed_adstock(jnp.asarray(x), decay, delay, max_lag, normalize)


@jax.jit(static_argnums=(3, 4))
def _delayed_adstock(x, decay, delay, max_lag, normalize):
    tail = x.shape[1:]
    decay = jnp.broadcast_to(jnp.asarray(decay, x.dtype), tail)
    delay = jnp.broadcast_to(jnp.asarray(delay, x.dtype), tail)
    lags = jnp.arange(max_lag, dtype=x.dtype).reshape((max_lag,) + (1,) * len(tail))
    w = decay ** ((lags - delay) ** 2)
    if normalize:
        w = w / jnp.sum(w, axis=0)
    padded = jnp.concatenate([jnp.zeros((max_lag - 1,) + tail, x.dtype), x], axis=0)
    t = x.shape[0]
    # A sum over a fixed number of shifted copies: static shapes, no data-dependent slicing.
    return sum(w[l] * jax.lax.dynamic_slice_in_dim(padded, max_lag - 1 - l, t, axis=0) for l in range(max_lag))


@jax.jit
def hill(
    x: Float[ArrayLike, "..."], half_saturation: Float[ArrayLike, "..."], slope: Float[ArrayLike, "..."]
) -> Float[Array, "..."]:
    """Hill saturation ``x**s / (x**s + k**s)``: 0 at 0, 1/2 at ``x = k``, tends to 1.

    Args:
        x: non-negative (adstocked) spends.
        half_saturation: ``k > 0``, the spend at half the maximal effect.
        slope: ``s > 0``; ``s > 1`` gives an S curve, ``s <= 1`` a concave one.

    Example:
        >>> float(hill(2.0, 2.0, 3.0))
        0.5
    """
    x = jnp.asarray(x)
    k = jnp.asarray(half_saturation, x.dtype)
    s = jnp.asarray(slope, x.dtype)
    positive = x > 0
    # sigmoid(s (log x - log k)) equals the ratio form, cannot overflow, and the masked log
    # keeps gradients finite at x = 0.
    safe = jnp.where(positive, x, 1)
    return jnp.where(positive, jax.nn.sigmoid(s * (jnp.log(safe) - jnp.log(k))), 0)


@jax.jit
def logistic_saturation(x: Float[ArrayLike, "..."], lam: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    """Logistic saturation ``(1 - exp(-lam x)) / (1 + exp(-lam x)) = tanh(lam x / 2)``.

    Example:
        >>> float(logistic_saturation(0.0, 1.0))
        0.0
    """
    return jnp.tanh(0.5 * jnp.asarray(lam) * jnp.asarray(x))


def fit_geometric_decay(
    spends: Float[ArrayLike, "t c"],
    target: Float[ArrayLike, " t"],
    controls: Float[ArrayLike, "t k"] | None = None,
    grid: Float[ArrayLike, " g"] | None = None,
    sweeps: int = 3,
) -> np.ndarray:
    """Fit one geometric decay per channel by coordinate search on a ridge regression.

    The target is regressed on the adstocked spends (and the controls); each sweep sets each
    channel's decay to the grid value with the smallest residual sum of squares, the others
    held. A linear fit is a deliberately simple, stable criterion for carry-over; the
    non-linear part is left to the model that uses the adstocked spends.

    Args:
        spends: weekly spends, one column per channel.
        target: weekly outcome.
        controls: other regressors (an intercept is always added).
        grid: candidate decays; default ``0, 0.1, ..., 0.9``.
        sweeps: passes over the channels.

    Returns:
        The fitted decays, shape ``(c,)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.gamma(2.0, size=(200, 1))
        >>> y = 2 * np.asarray(geometric_adstock(x, 0.6))[:, 0] + rng.normal(0, 0.1, 200)
        >>> fit_geometric_decay(x, y).round(1).tolist()
        [0.6]
    """
    spends = np.asarray(spends, np.float64)
    target = np.asarray(target, np.float64)
    t, c = spends.shape
    grid = np.linspace(0.0, 0.9, 10) if grid is None else np.asarray(grid, np.float64)
    base = np.ones((t, 1)) if controls is None else np.column_stack([np.ones(t), np.asarray(controls, np.float64)])
    # Every channel's adstock at every candidate decay, computed once: (g, t, c).
    stock = np.stack([np.asarray(geometric_adstock(spends.astype(np.float32), float(g))) for g in grid])
    scale = stock.std(axis=1, keepdims=True) + 1e-12
    stock = stock / scale
    chosen = np.full(c, len(grid) // 2)

    def rss(columns):
        design = np.column_stack([base, columns])
        gram = design.T @ design + 1e-3 * np.eye(design.shape[1])
        coef = np.linalg.solve(gram, design.T @ target)
        resid = target - design @ coef
        return float(resid @ resid)

    for _ in range(sweeps):
        for j in range(c):
            scores = []
            for gi in range(len(grid)):
                trial = chosen.copy()
                trial[j] = gi
                scores.append(rss(stock[trial, :, np.arange(c)].T))
            chosen[j] = int(np.argmin(scores))
    return grid[chosen]
