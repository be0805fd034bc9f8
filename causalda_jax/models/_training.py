"""A compiled optax training loop for weighted losses, with early stopping on a validation split.

The whole fit (all epochs, all minibatches, early stopping) is one ``lax.while_loop`` inside one
``eqx.filter_jit`` call: nothing retraces between epochs, and a second fit with the same shapes
and static configuration reuses the compiled program. Histories are fixed-size buffers of length
``max_epochs`` padded with NaN past the last epoch run (the Diffrax way of handling a
data-dependent number of steps under static shapes).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ..losses import per_example_error, weighted_loss

__all__ = ["LOSSES", "TrainResult", "train"]

LOSSES = ("mse", "mae", "huber", "cross_entropy")
MINIBATCH = ("weighted", "shuffle")


class TrainResult(NamedTuple):
    """What :func:`train` returns.

    Attributes:
        model: the parameters with the best validation loss (the last ones without validation).
        n_epochs: epochs run before stopping.
        best_epoch: 1-based epoch whose parameters were kept.
        train_loss: per-epoch mean training loss, NaN after ``n_epochs``.
        val_loss: per-epoch weighted validation loss, NaN after ``n_epochs`` or without validation.
    """

    model: eqx.Module
    n_epochs: Int[Array, ""]
    best_epoch: Int[Array, ""]
    train_loss: Float[Array, " max_epochs"]
    val_loss: Float[Array, " max_epochs"]


def train(
    model: eqx.Module,
    X: Float[Array, "n d"],
    y: Array,
    weights: Float[Array, " n"],
    X_val: Float[Array, "m d"] | None = None,
    y_val: Array | None = None,
    w_val: Float[Array, " m"] | None = None,
    *,
    key: PRNGKeyArray,
    loss: str = "mse",
    learning_rate: float = 1e-3,
    weight_decay: float = 0.0,
    huber_delta: float = 1.0,
    max_epochs: int = 100,
    batch_size: int | None = None,
    minibatch: str = "weighted",
    patience: int = 10,
) -> TrainResult:
    """Minimise ``sum(w * L(model(x), y)) / sum(w)`` with AdamW.

    Each epoch takes ``ceil(n / batch_size)`` optimiser steps. ``batch_size=None`` uses the full
    weighted batch (one step per epoch). ``minibatch="weighted"`` draws each batch with replacement
    with probabilities ``w / sum(w)`` and averages the losses unweighted, an unbiased estimate of the
    weighted risk that never wastes a step on rows of tiny weight. ``minibatch="shuffle"`` visits
    every row once per epoch in a random order and scales each batch's weighted sum by its expected
    weight ``batch_size * mean(w)`` (so a batch of zero-weight rows gives zero, not 0/0).

    With a validation set, training stops once the weighted validation loss has not improved for
    ``patience`` epochs, and the best parameters are returned.

    Args:
        model: an Equinox module mapping one example ``(d,)`` to outputs; batched with ``vmap``.
        X, y, weights: training data; ``y`` is ``(n, k)`` floats or ``(n,)`` integer labels for
            ``loss="cross_entropy"``.
        X_val, y_val, w_val: optional validation data for early stopping.
        key: PRNG key for minibatch draws.
        loss: one of ``"mse"``, ``"mae"``, ``"huber"``, ``"cross_entropy"``.

    Example:
        >>> import jax, jax.numpy as jnp, equinox as eqx
        >>> lin = eqx.nn.Linear(1, 1, key=jax.random.key(0))
        >>> X = jnp.linspace(-1, 1, 8)[:, None]
        >>> res = train(lin, X, 2 * X, jnp.ones(8), key=jax.random.key(1), learning_rate=0.1, max_epochs=300)
        >>> round(float(res.model.weight[0, 0]), 2)
        2.0
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
    if minibatch not in MINIBATCH:
        raise ValueError(f"unknown minibatch mode {minibatch!r}; choose 'weighted' or 'shuffle'")
    n = X.shape[0]
    batch = n if batch_size is None else min(int(batch_size), n)
    steps = -(-n // batch)
    has_val = X_val is not None
    if not has_val:
        # Dummy one-row validation data keeps the compiled signature fixed; it is never used.
        X_val, y_val, w_val = X[:1], y[:1], weights[:1]
    # Numpy scalars, not Python floats: traced (no recompile per value) and no eager device kernels.
    hyper = {
        "lr": np.asarray(learning_rate, np.float32),
        "wd": np.asarray(weight_decay, np.float32),
        "delta": np.asarray(huber_delta, np.float32),
    }
    out = _fit(
        model,
        (X, y, weights),
        (X_val, y_val, w_val),
        key,
        hyper,
        loss=loss,
        max_epochs=int(max_epochs),
        batch=batch,
        steps=steps,
        full_batch=batch_size is None or batch >= n,
        minibatch=minibatch,
        patience=int(patience) if has_val else int(max_epochs) + 1,
        has_val=has_val,
    )
    return TrainResult(*out)


@eqx.filter_jit
def _fit(model, data, val, key, hyper, *, loss, max_epochs, batch, steps, full_batch, minibatch, patience, has_val):
    X, y, w = data
    X_val, y_val, w_val = val
    n = X.shape[0]
    params, static = eqx.partition(model, eqx.is_inexact_array)
    optimizer = optax.adamw(hyper["lr"], weight_decay=hyper["wd"])
    w_mean = jnp.mean(w)

    def risk(p, xb, yb, wb, norm):
        pred = jax.vmap(eqx.combine(p, static))(xb)
        per = per_example_error(loss, pred, yb, hyper["delta"])
        # norm=None: exact weighted mean; otherwise a fixed normaliser (unbiased minibatch estimate).
        return weighted_loss(per, wb) if norm is None else jnp.sum(wb * per) / norm

    def step(carry, batch_data):
        p, s = carry
        xb, yb, wb, norm = batch_data
        value, grads = jax.value_and_grad(risk)(p, xb, yb, wb, norm)
        updates, s = optimizer.update(grads, s, p)
        return (optax.apply_updates(p, updates), s), value

    def epoch(p, s, k):
        if full_batch:
            (p, s), values = step((p, s), (X, y, w, None))
            return p, s, values
        if minibatch == "weighted":
            idx = jax.random.choice(k, n, (steps, batch), replace=True, p=w / jnp.sum(w))
            wb = jnp.ones((steps, batch), X.dtype)
            norm = jnp.full((steps,), batch, X.dtype)
        else:
            # Pad the permutation to steps * batch and mask the padding with zero weight.
            perm = jax.random.permutation(k, n)
            pad = steps * batch - n
            idx = jnp.concatenate([perm, jnp.zeros((pad,), perm.dtype)]).reshape(steps, batch)
            mask = (jnp.arange(steps * batch) < n).reshape(steps, batch)
            wb = jnp.where(mask, w[idx], 0.0)
            norm = jnp.full((steps,), batch * w_mean, X.dtype)
        (p, s), values = jax.lax.scan(step, (p, s), (X[idx], y[idx], wb, norm))
        return p, s, jnp.mean(values)

    def val_loss(p):
        pred = jax.vmap(eqx.combine(p, static))(X_val)
        return weighted_loss(per_example_error(loss, pred, y_val, hyper["delta"]), w_val)

    nan = jnp.full((max_epochs,), jnp.nan, jnp.float32)
    init = {
        "epoch": jnp.asarray(0),
        "params": params,
        "opt": optimizer.init(params),
        "key": key,
        "best": params,
        "best_loss": jnp.asarray(jnp.inf, jnp.float32),
        "best_epoch": jnp.asarray(0),
        "bad": jnp.asarray(0),
        "train": nan,
        "val": nan,
    }

    def cond(c):
        return (c["epoch"] < max_epochs) & (c["bad"] < patience)

    def body(c):
        key, sub = jax.random.split(c["key"])
        p, s, tl = epoch(c["params"], c["opt"], sub)
        vl = val_loss(p).astype(jnp.float32) if has_val else jnp.asarray(jnp.nan, jnp.float32)
        # Without validation the latest parameters are always kept. NaN never counts as improvement.
        improved = (vl < c["best_loss"]) if has_val else jnp.asarray(True)
        best = jax.tree.map(lambda a, b: jnp.where(improved, a, b), p, c["best"])
        e = c["epoch"]
        return {
            "epoch": e + 1,
            "params": p,
            "opt": s,
            "key": key,
            "best": best,
            "best_loss": jnp.where(improved, vl, c["best_loss"]),
            "best_epoch": jnp.where(improved, e + 1, c["best_epoch"]),
            "bad": jnp.where(improved, 0, c["bad"] + 1),
            "train": c["train"].at[e].set(tl.astype(jnp.float32)),
            "val": c["val"].at[e].set(vl),
        }

    final = jax.lax.while_loop(cond, body, init)
    return eqx.combine(final["best"], static), final["epoch"], final["best_epoch"], final["train"], final["val"]
