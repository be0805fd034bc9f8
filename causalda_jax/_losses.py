"""Weighted empirical risks ``sum_i w_i L_i / sum_i w_i``, jittable and differentiable in the weights.

Augmented rows carry probability weights, so every learner trained on them minimises a
weighted risk. Keeping the weights an ordinary array argument (never a Python value) lets
``jax.grad`` flow into them, and through them into whatever produced them (for example a
kernel bandwidth).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

__all__ = [
    "absolute_error",
    "huber_error",
    "softmax_cross_entropy",
    "squared_error",
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


def squared_error(pred: Float[ArrayLike, "..."], target: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    """Elementwise ``(pred - target) ** 2``.

    Example:
        >>> float(squared_error(3.0, 1.0))
        4.0
    """
    return jnp.square(jnp.asarray(pred) - jnp.asarray(target))


def absolute_error(pred: Float[ArrayLike, "..."], target: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
    """Elementwise ``|pred - target|``.

    Example:
        >>> float(absolute_error(1.0, 3.0))
        2.0
    """
    return jnp.abs(jnp.asarray(pred) - jnp.asarray(target))


def huber_error(
    pred: Float[ArrayLike, "..."], target: Float[ArrayLike, "..."], delta: float | Float[ArrayLike, ""] = 1.0
) -> Float[Array, "..."]:
    """Elementwise Huber loss: ``r**2 / 2`` for ``|r| <= delta``, else ``delta * (|r| - delta / 2)``.

    Example:
        >>> [float(v) for v in huber_error(jnp.array([0.5, 3.0]), 0.0, delta=1.0)]
        [0.125, 2.5]
    """
    r = jnp.abs(jnp.asarray(pred) - jnp.asarray(target))
    # Clip before squaring so the quadratic branch has a finite gradient everywhere (no NaN from where).
    quadratic = jnp.minimum(r, delta)
    return 0.5 * quadratic**2 + delta * (r - quadratic)


def softmax_cross_entropy(logits: Float[ArrayLike, "n k"], labels: Int[ArrayLike, " n"]) -> Float[Array, " n"]:
    """Per-example ``-log softmax(logits)[label]`` for integer class labels.

    Example:
        >>> round(float(softmax_cross_entropy(jnp.zeros((1, 4)), jnp.array([2]))[0]), 4)
        1.3863
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"expected logits of shape (n, k) and labels of shape (n,); got {logits.shape} and {labels.shape}"
        )
    picked = jnp.take_along_axis(logits, labels[:, None].astype(jnp.int32), axis=1)[:, 0]
    return jax.nn.logsumexp(logits, axis=1) - picked


def _per_row(errors: Array, n: int) -> Array:
    # Multi-output targets: average over the output dimensions so each row has one loss.
    return errors.reshape(n, -1).mean(axis=1)


def weighted_mse(
    pred: Float[ArrayLike, "n ..."], target: Float[ArrayLike, "n ..."], weights: Float[ArrayLike, " n"]
) -> Float[Array, ""]:
    """Weighted mean squared error (outputs of one row averaged, rows weighted).

    Example:
        >>> float(weighted_mse(jnp.array([0.0, 0.0]), jnp.array([1.0, 3.0]), jnp.array([1.0, 1.0])))
        5.0
    """
    pred, target, weights = _as_arrays(pred, target, weights)
    return weighted_loss(_per_row(squared_error(pred, target), pred.shape[0]), weights)


def weighted_mae(
    pred: Float[ArrayLike, "n ..."], target: Float[ArrayLike, "n ..."], weights: Float[ArrayLike, " n"]
) -> Float[Array, ""]:
    """Weighted mean absolute error.

    Example:
        >>> float(weighted_mae(jnp.array([0.0, 0.0]), jnp.array([1.0, 3.0]), jnp.array([3.0, 1.0])))
        1.5
    """
    pred, target, weights = _as_arrays(pred, target, weights)
    return weighted_loss(_per_row(absolute_error(pred, target), pred.shape[0]), weights)


def weighted_huber(
    pred: Float[ArrayLike, "n ..."],
    target: Float[ArrayLike, "n ..."],
    weights: Float[ArrayLike, " n"],
    delta: float | Float[ArrayLike, ""] = 1.0,
) -> Float[Array, ""]:
    """Weighted mean Huber loss (see :func:`huber_error`).

    Example:
        >>> float(weighted_huber(jnp.array([0.0, 0.0]), jnp.array([0.5, 3.0]), jnp.array([1.0, 1.0])))
        1.3125
    """
    pred, target, weights = _as_arrays(pred, target, weights)
    return weighted_loss(_per_row(huber_error(pred, target, delta), pred.shape[0]), weights)


def weighted_cross_entropy(
    logits: Float[ArrayLike, "n k"], labels: Int[ArrayLike, " n"], weights: Float[ArrayLike, " n"]
) -> Float[Array, ""]:
    """Weighted mean softmax cross-entropy for integer labels.

    Example:
        >>> round(float(weighted_cross_entropy(jnp.zeros((2, 2)), jnp.array([0, 1]), jnp.ones(2))), 4)
        0.6931
    """
    return weighted_loss(softmax_cross_entropy(logits, labels), weights)


def _as_arrays(pred: ArrayLike, target: ArrayLike, weights: ArrayLike) -> tuple[Array, Array, Array]:
    pred, target, weights = jnp.asarray(pred), jnp.asarray(target), jnp.asarray(weights)
    if pred.shape != target.shape:
        raise ValueError(f"predictions have shape {pred.shape} but targets have shape {target.shape}")
    if pred.ndim == 0:
        raise ValueError("predictions must have a leading example axis, got a scalar")
    return pred, target, weights
