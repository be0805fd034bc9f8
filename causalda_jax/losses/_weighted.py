"""Weighted empirical risks ``sum_i w_i L_i / sum_i w_i``, jittable and differentiable in the weights.

Augmented rows carry probability weights, so every learner trained on them minimises a
weighted risk. Keeping the weights an ordinary array argument (never a Python value) lets
``jax.grad`` flow into them, and through them into whatever produced them (for example a
kernel bandwidth).
"""

from __future__ import annotations

import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, Int

__all__ = [
    "per_example_error",
    "weighted_cross_entropy",
    "weighted_huber",
    "weighted_loss",
    "weighted_mae",
    "weighted_mse",
]


def weighted_loss(losses: Float[ArrayLike, " n"], weights: Float[ArrayLike, " n"]) -> Float[Array, ""]:
    """Weighted mean ``sum(w * L) / sum(w)`` of per-example losses.

    Differentiable with respect to both arguments; the gradient with respect to ``w_j`` is
    ``(L_j - loss) / sum(w)``. Scaling all weights by a constant does not change the value.
    All-zero weights give NaN (0/0): the caller must supply some positive weight.

    Args:
        losses: per-example losses, any shape.
        weights: non-negative weights of the same shape.

    Returns:
        A scalar.

    Raises:
        ValueError: the shapes differ.

    Example:
        >>> import jax.numpy as jnp
        >>> float(weighted_loss(jnp.array([1.0, 3.0]), jnp.array([3.0, 1.0])))
        1.5
    """
    losses = jnp.asarray(losses)
    weights = jnp.asarray(weights)
    if losses.shape != weights.shape:
        raise ValueError(
            f"losses have shape {losses.shape} but weights have shape {weights.shape}; pass one weight per example"
        )
    dtype = jnp.result_type(losses.dtype, weights.dtype, float)
    losses = losses.astype(dtype)
    weights = weights.astype(dtype)
    return jnp.sum(weights * losses) / jnp.sum(weights)


def per_example_error(loss: str, pred: Array, target: Array, delta: float | Array = 1.0) -> Array:
    """One loss per row: optax's elementwise loss, averaged over a row's outputs.

    ``loss`` is ``"mse"`` (``optax.losses.squared_error``), ``"mae"``, ``"huber"``
    (``optax.losses.huber_loss`` with ``delta``) or ``"cross_entropy"``
    (``optax.losses.softmax_cross_entropy_with_integer_labels``; ``pred`` are logits and
    ``target`` integer labels).

    Example:
        >>> [float(v) for v in per_example_error("huber", jnp.array([0.5, 3.0]), jnp.zeros(2))]
        [0.125, 2.5]
    """
    if loss == "cross_entropy":
        if pred.ndim != 2 or target.shape != pred.shape[:1]:
            raise ValueError(
                f"expected logits of shape (n, k) and labels of shape (n,); got {pred.shape} and {target.shape}"
            )
        return optax.losses.softmax_cross_entropy_with_integer_labels(pred, target.astype(jnp.int32))
    if loss == "mse":
        err = optax.losses.squared_error(pred, target)
    elif loss == "mae":
        err = jnp.abs(pred - target)
    elif loss == "huber":
        err = optax.losses.huber_loss(pred, target, delta=delta)
    else:
        raise ValueError(f"unknown loss {loss!r}; choose 'mse', 'mae', 'huber' or 'cross_entropy'")
    return err.reshape(pred.shape[0], -1).mean(axis=1)


def weighted_mse(
    pred: Float[ArrayLike, "n ..."], target: Float[ArrayLike, "n ..."], weights: Float[ArrayLike, " n"]
) -> Float[Array, ""]:
    """Weighted mean squared error (outputs of one row averaged, rows weighted).

    Example:
        >>> float(weighted_mse(jnp.array([0.0, 0.0]), jnp.array([1.0, 3.0]), jnp.array([1.0, 1.0])))
        5.0
    """
    pred, target, weights = _as_arrays(pred, target, weights)
    return weighted_loss(per_example_error("mse", pred, target), weights)


def weighted_mae(
    pred: Float[ArrayLike, "n ..."], target: Float[ArrayLike, "n ..."], weights: Float[ArrayLike, " n"]
) -> Float[Array, ""]:
    """Weighted mean absolute error.

    Example:
        >>> float(weighted_mae(jnp.array([0.0, 0.0]), jnp.array([1.0, 3.0]), jnp.array([3.0, 1.0])))
        1.5
    """
    pred, target, weights = _as_arrays(pred, target, weights)
    return weighted_loss(per_example_error("mae", pred, target), weights)


def weighted_huber(
    pred: Float[ArrayLike, "n ..."],
    target: Float[ArrayLike, "n ..."],
    weights: Float[ArrayLike, " n"],
    delta: float | Float[ArrayLike, ""] = 1.0,
) -> Float[Array, ""]:
    """Weighted mean Huber loss (``optax.losses.huber_loss``).

    Example:
        >>> float(weighted_huber(jnp.array([0.0, 0.0]), jnp.array([0.5, 3.0]), jnp.array([1.0, 1.0])))
        1.3125
    """
    pred, target, weights = _as_arrays(pred, target, weights)
    return weighted_loss(per_example_error("huber", pred, target, delta), weights)


def weighted_cross_entropy(
    logits: Float[ArrayLike, "n k"], labels: Int[ArrayLike, " n"], weights: Float[ArrayLike, " n"]
) -> Float[Array, ""]:
    """Weighted mean softmax cross-entropy for integer labels.

    Example:
        >>> round(float(weighted_cross_entropy(jnp.zeros((2, 2)), jnp.array([0, 1]), jnp.ones(2))), 4)
        0.6931
    """
    return weighted_loss(per_example_error("cross_entropy", jnp.asarray(logits), jnp.asarray(labels)), weights)


def _as_arrays(pred: ArrayLike, target: ArrayLike, weights: ArrayLike) -> tuple[Array, Array, Array]:
    pred, target, weights = jnp.asarray(pred), jnp.asarray(target), jnp.asarray(weights)
    if pred.shape != target.shape:
        raise ValueError(f"predictions have shape {pred.shape} but targets have shape {target.shape}")
    if pred.ndim == 0:
        raise ValueError("predictions must have a leading example axis, got a scalar")
    return pred, target, weights
