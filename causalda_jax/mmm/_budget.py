"""Budget allocation: maximise predicted sales for a total budget under per-channel bounds."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from jaxtyping import Array, ArrayLike, Float

from ._transforms import hill

__all__ = [
    "project_to_budget",
    "allocate_gradient",
    "allocate_search",
    "fit_hill_curve",
    "BudgetResult",
]


@jax.jit
def project_to_budget(
    x: Float[ArrayLike, " c"], total: Float[ArrayLike, ""], lower: Float[ArrayLike, " c"], upper: Float[ArrayLike, " c"]
) -> Float[Array, " c"]:
    """Euclidean projection onto ``{lower <= y <= upper, sum(y) = total}``.

    The projection is ``clip(x - tau, lower, upper)`` for the shift ``tau`` that meets the
    total; ``sum`` is monotone in ``tau``, so a fixed number of bisection steps finds it.
    Requires ``sum(lower) <= total <= sum(upper)``.

    Example:
        >>> np.round(project_to_budget(jnp.array([3.0, 1.0]), 2.0, jnp.zeros(2), jnp.full(2, 5.0)), 4).tolist()
        [2.0, 0.0]
    """
    x = jnp.asarray(x)
    lo = jnp.min(x - upper) - 1.0
    hi = jnp.max(x - lower) + 1.0

    def body(_, bracket):
        a, b = bracket
        mid = 0.5 * (a + b)
        over = jnp.sum(jnp.clip(x - mid, lower, upper)) > total
        return jnp.where(over, mid, a), jnp.where(over, b, mid)

    a, b = jax.lax.fori_loop(0, 100, body, (lo, hi))
    return jnp.clip(x - 0.5 * (a + b), lower, upper)


def allocate_gradient(
    response: Callable[[Float[Array, " c"]], Float[Array, ""]],
    total: float,
    lower: Float[ArrayLike, " c"],
    upper: Float[ArrayLike, " c"],
    *,
    init: Float[ArrayLike, " c"] | None = None,
    steps: int = 2000,
    learning_rate: float = 0.01,
) -> np.ndarray:
    """Maximise a differentiable ``response(spends)`` by projected gradient ascent with optax.

    Spends are rescaled by the total so one learning rate fits any currency; the gradient is
    centred (its component along the budget plane), each momentum SGD step (cosine-decayed)
    is followed by the projection onto the bounds and the budget. The loop is one
    ``lax.scan``; the best iterate seen is returned.

    Args:
        response: jax-differentiable function of the per-channel spends.
        total: budget to spend exactly.
        lower, upper: per-channel bounds on spend.
        init: starting allocation (projected first); default the middle of the bounds.
        steps: Adam steps.
        learning_rate: step size in units of the total budget.

    Example:
        >>> a = jnp.array([1.0, 2.0])
        >>> x = allocate_gradient(lambda s: jnp.sum(a * jnp.log1p(s)), 4.0, jnp.zeros(2), jnp.full(2, 4.0))
        >>> np.round(x, 2).tolist()  # equal marginal returns: 1/(1+x0) = 2/(1+x1)
        [1.0, 3.0]
    """
    lower = jnp.asarray(lower, jnp.float32)
    upper = jnp.asarray(upper, jnp.float32)
    if float(jnp.sum(lower)) > total * (1 + 1e-6) or float(jnp.sum(upper)) < total * (1 - 1e-6):
        raise ValueError(
            f"budget {total} is outside what the bounds allow: [{float(jnp.sum(lower))}, {float(jnp.sum(upper))}]"
        )
    scale = float(total) if total > 0 else 1.0
    lo, hi, tot = lower / scale, upper / scale, jnp.asarray(total / scale, jnp.float32)
    y0 = 0.5 * (lo + hi) if init is None else jnp.asarray(init, jnp.float32) / scale
    y0 = project_to_budget(y0, tot, lo, hi)
    loss = lambda y: -response(y * scale)  # noqa: E731
    # Projected gradient needs Euclidean steps (Adam's per-coordinate scaling bends them), so
    # plain SGD with momentum; its step is made scale-free by the first gradient's size.
    g0 = jnp.max(jnp.abs(jax.grad(loss)(y0) - jnp.mean(jax.grad(loss)(y0))))
    rate = learning_rate / jnp.maximum(g0, 1e-12)
    opt = optax.sgd(optax.cosine_decay_schedule(1.0, steps, alpha=1e-2), momentum=0.9)

    @jax.jit
    def run(y0):
        def step(carry, _):
            y, state, best, best_val = carry
            val, grad = jax.value_and_grad(loss)(y)
            better = val < best_val
            best = jnp.where(better, y, best)
            best_val = jnp.where(better, val, best_val)
            # Only the part of the gradient along the budget plane can be followed.
            grad = rate * (grad - jnp.mean(grad))
            updates, state = opt.update(grad, state, y)
            y = project_to_budget(optax.apply_updates(y, updates), tot, lo, hi)
            return (y, state, best, best_val), None

        (y, _, best, best_val), _ = jax.lax.scan(step, (y0, opt.init(y0), y0, loss(y0)), None, length=steps)
        return jnp.where(loss(y) < best_val, y, best)

    return np.asarray(run(y0), np.float64) * scale


def allocate_search(
    objective: Callable[[np.ndarray], np.ndarray],
    total: float,
    lower: ArrayLike,
    upper: ArrayLike,
    *,
    init: ArrayLike | None = None,
    rounds: int = 12,
    candidates: int = 48,
    seed: int = 0,
) -> np.ndarray:
    """Derivative-free allocation: shrinking random search on the budget set.

    ``objective`` maps a batch of allocations ``(k, c)`` to values ``(k,)`` (higher is
    better), so tree models are scored in one call per round. Each round perturbs the best
    allocation with a step that halves every time no candidate improves, projecting every
    candidate onto the bounds and the budget.

    Example:
        >>> f = lambda X: -np.sum((X - np.array([1.0, 3.0])) ** 2, axis=1)
        >>> np.round(allocate_search(f, 4.0, [0, 0], [4, 4], rounds=30), 1).tolist()
        [1.0, 3.0]
    """
    rng = np.random.default_rng(seed)
    lower = np.asarray(lower, np.float64)
    upper = np.asarray(upper, np.float64)
    if lower.sum() > total * (1 + 1e-9) or upper.sum() < total * (1 - 1e-9):
        raise ValueError(f"budget {total} is outside what the bounds allow: [{lower.sum()}, {upper.sum()}]")
    project = jax.vmap(project_to_budget, in_axes=(0, None, None, None))
    with jax.enable_x64(True):
        start = (lower + upper) / 2 if init is None else np.asarray(init, np.float64)
        best = np.asarray(project(start[None], total, lower, upper))[0]
        best_val = float(objective(best[None])[0])
        radius = 0.25 * float(np.max(upper - lower))
        for _ in range(rounds):
            trial = best[None, :] + radius * rng.normal(size=(candidates, best.size))
            trial = np.asarray(project(trial, total, lower, upper))
            values = np.asarray(objective(trial), np.float64)
            i = int(np.argmax(values))
            if values[i] > best_val:
                best, best_val = trial[i], float(values[i])
            else:
                radius *= 0.5
    return best


def fit_hill_curve(spend: ArrayLike, response: ArrayLike, steps: int = 1500) -> tuple[float, float, float]:
    """Fit ``r(x) = top * x**s / (x**s + k**s)`` to a response curve by least squares (optax).

    Used as the smooth, differentiable surrogate of a (possibly non-smooth) model's response
    curve. Parameters are fitted on log scales so they stay positive; the slope is kept in
    ``[0.5, 3]``.

    Returns:
        ``(top, half_saturation, slope)``.

    Example:
        >>> x = np.linspace(0, 4, 21)
        >>> top, k, s = fit_hill_curve(x, 5 * x**2 / (x**2 + 1.5**2))
        >>> round(top, 1), round(k, 1), round(s, 1)
        (5.0, 1.5, 2.0)
    """
    x = np.asarray(spend, np.float64)
    r = np.asarray(response, np.float64)
    xs = max(float(np.max(x)), 1e-12)
    rs = max(float(np.max(np.abs(r))), 1e-12)
    xn = jnp.asarray(x / xs, jnp.float32)
    rn = jnp.asarray(r / rs, jnp.float32)
    best = None
    # A few starts: the half-saturation point can sit anywhere in the range.
    for k0 in (0.25, 0.6, 1.5):
        p0 = jnp.array([np.log(max(float(rn.max()), 1e-3) * 1.5), np.log(k0), 0.0], jnp.float32)
        p, val = _fit_hill(p0, xn, rn, steps)
        val = float(val)
        if best is None or val < best[0]:
            best = (val, p)
    p = np.asarray(best[1], np.float64)
    return float(np.exp(p[0]) * rs), float(np.exp(p[1]) * xs), float(0.5 + 2.5 / (1 + np.exp(-p[2])))


def _hill_curve(p, x):
    return jnp.exp(p[0]) * hill(x, jnp.exp(p[1]), 0.5 + 2.5 * jax.nn.sigmoid(p[2]))


@jax.jit(static_argnums=3)
def _fit_hill(p, x, r, steps):
    opt = optax.adam(0.05)

    def loss(p):
        return jnp.mean((_hill_curve(p, x) - r) ** 2)

    def step(carry, _):
        p, state = carry
        g = jax.grad(loss)(p)
        updates, state = opt.update(g, state, p)
        return (optax.apply_updates(p, updates), state), None

    (p, _), _ = jax.lax.scan(step, (p, opt.init(p)), None, length=steps)
    return p, loss(p)


@dataclasses.dataclass
class BudgetResult:
    """A proposed reallocation and what the model expects from it.

    Attributes:
        table: ``channel, current_spend, optimal_spend, change, lower, upper`` (+ per-channel
            predicted contributions when available).
        current_sales: predicted total target with the current spends.
        optimal_sales: predicted total target with the proposed spends (by the model itself,
            not the surrogate).
        lift: ``optimal_sales - current_sales``.
        method: ``"surrogate"`` or ``"search"``.
        surrogate_lift: the lift the smooth surrogate expected (``None`` for ``"search"``).
        checks: the same allocation scored by other model variants, ``{variant: lift}``.
    """

    table: pd.DataFrame
    current_sales: float
    optimal_sales: float
    lift: float
    method: str
    surrogate_lift: float | None = None
    checks: dict = dataclasses.field(default_factory=dict)

    @property
    def lift_percent(self) -> float:
        return 100.0 * self.lift / self.current_sales if self.current_sales else float("nan")
