"""Causal mechanisms ``child = f(parents, noise)`` of the random SCM family.

They follow the Causal Discovery Toolbox (``cdt.data.causal_mechanisms``). "Additive"
mechanisms (``linear``, ``polynomial``, ``sigmoid_add``, ``gp_add``) return
``sum_j f_j(x_j) + noise``; "mixed" ones (``sigmoid_mix``, ``gp_mix``, ``nn``) feed the
noise in as one more input, so it interacts with the parents. Parents are standardised
columns. Every random parameter comes from the ``rng`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Float

__all__ = [
    "MECHANISMS",
    "gp_add",
    "gp_mix",
    "linear",
    "nn",
    "polynomial",
    "sigmoid_add",
    "sigmoid_mix",
]

Parents = Float[np.ndarray, "n p"]
Noise = Float[np.ndarray, " n"]
Effect = Float[np.ndarray, " n"]

# Jitter added to the RBF Gram matrix so that its Cholesky factor exists when points repeat.
_GP_JITTER = 1e-6


def linear(parents: Parents, noise: Noise, rng: np.random.Generator) -> Effect:
    """``sum_j a_j x_j + noise`` with ``a_j ~ U(0, 1)``, as the toolbox draws them.

    Example:
        >>> x = np.ones((3, 2)); e = np.zeros(3)
        >>> linear(x, e, np.random.default_rng(0)).shape
        (3,)
    """
    coef = rng.random(parents.shape[1])
    return parents @ coef + noise


def polynomial(parents: Parents, noise: Noise, rng: np.random.Generator, *, degree: int = 2) -> Effect:
    """``sum_j clip(sum_k c_jk x_j^k, -1, 1) + noise`` with ``c_jk ~ U(0, 1)``, ``k <= 2``.

    The toolbox multiplies by the noise instead of adding it in half of the draws; here the
    noise is always additive so that ``noise_scale`` means the same for every mechanism.

    Example:
        >>> polynomial(np.ones((3, 1)), np.zeros(3), np.random.default_rng(0)).shape
        (3,)
    """
    coef = rng.random((parents.shape[1], degree + 1))
    powers = parents[:, :, None] ** np.arange(degree + 1)
    terms = np.clip((powers * coef).sum(-1), -1.0, 1.0)
    return terms.sum(1) + noise


def _sigmoid_params(rng: np.random.Generator) -> tuple[float, float, float]:
    a = rng.exponential(0.25) + 1.0
    b = rng.uniform(-2.0, -0.5) if rng.random() < 0.5 else rng.uniform(0.5, 2.0)
    c = rng.uniform(-2.0, 2.0)
    return a, b, c


def _sigmoid(z, a, b, c):
    return a * b * (z + c) / (1.0 + np.abs(b * (z + c)))


def sigmoid_add(parents: Parents, noise: Noise, rng: np.random.Generator) -> Effect:
    """``sum_j s(x_j) + noise``, ``s(z) = a b (z + c) / (1 + |b (z + c)|)`` (one ``a, b, c`` per node).

    Example:
        >>> sigmoid_add(np.ones((3, 2)), np.zeros(3), np.random.default_rng(0)).shape
        (3,)
    """
    a, b, c = _sigmoid_params(rng)
    return _sigmoid(parents, a, b, c).sum(1) + noise


def sigmoid_mix(parents: Parents, noise: Noise, rng: np.random.Generator) -> Effect:
    """``s(sum_j x_j + noise)`` with the sigmoid ``s`` of :func:`sigmoid_add`.

    Example:
        >>> sigmoid_mix(np.ones((3, 2)), np.zeros(3), np.random.default_rng(0)).shape
        (3,)
    """
    a, b, c = _sigmoid_params(rng)
    return _sigmoid(parents.sum(1) + noise, a, b, c)


def _gp_sample(inputs: Float[np.ndarray, "n q"], rng: np.random.Generator) -> Effect:
    # Exact draw of f ~ GP(0, exp(-|x - x'|^2 / 2)) at the data points, the toolbox's kernel.
    sq = ((inputs[:, None, :] - inputs[None, :, :]) ** 2).sum(-1)
    gram = np.exp(-0.5 * sq) + _GP_JITTER * np.eye(len(inputs))
    chol = np.linalg.cholesky(gram)
    return chol @ rng.standard_normal(len(inputs))


def gp_add(parents: Parents, noise: Noise, rng: np.random.Generator) -> Effect:
    """``sum_j f_j(x_j) + noise``, each ``f_j`` an independent draw of an RBF Gaussian process.

    Example:
        >>> gp_add(np.ones((3, 2)), np.zeros(3), np.random.default_rng(0)).shape
        (3,)
    """
    out = np.zeros(len(noise))
    for j in range(parents.shape[1]):
        out += _gp_sample(parents[:, j : j + 1], rng)
    return out + noise


def gp_mix(parents: Parents, noise: Noise, rng: np.random.Generator) -> Effect:
    """``f(x, noise)`` with ``f`` one draw of an RBF Gaussian process on parents and noise.

    Example:
        >>> gp_mix(np.ones((3, 2)), np.zeros(3), np.random.default_rng(0)).shape
        (3,)
    """
    return _gp_sample(np.column_stack([parents, noise]), rng)


def _glorot_mlp(in_size: int, width: int, rng: np.random.Generator) -> eqx.nn.MLP:
    # The MLP skeleton comes from eqx.filter_eval_shape (no default torch-like init, and no
    # per-shape compilation of JAX random ops); every weight is drawn Glorot-uniform,
    # U(+-sqrt(6 / (fan_in + fan_out))), and every bias U(+-1 / sqrt(fan_in)).
    skeleton = eqx.filter_eval_shape(
        eqx.nn.MLP, in_size, "scalar", width_size=width, depth=1, activation=jnp.tanh, key=jax.random.key(0)
    )
    weights, biases = [], []
    for layer in skeleton.layers:
        fan_out, fan_in = layer.weight.shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(jnp.asarray(rng.uniform(-limit, limit, (fan_out, fan_in)), dtype=jnp.float32))
        bound = 1.0 / np.sqrt(fan_in)
        biases.append(jnp.asarray(rng.uniform(-bound, bound, layer.bias.shape), dtype=jnp.float32))
    return eqx.tree_at(
        lambda m: [layer.weight for layer in m.layers] + [layer.bias for layer in m.layers],
        skeleton,
        weights + biases,
    )


def nn(parents: Parents, noise: Noise, rng: np.random.Generator, *, width: int = 20) -> Effect:
    """A random two-layer tanh network ``W2 tanh(W1 [x, noise] + b1) + b2`` with 20 hidden units.

    An ``equinox.nn.MLP`` (one hidden layer of ``width`` units) whose weights are drawn
    Glorot-uniform from ``rng`` (biases uniform in ``+-1/sqrt(fan_in)``). Evaluated in
    float32 and returned as float64.

    Example:
        >>> nn(np.ones((3, 2)), np.zeros(3), np.random.default_rng(0)).shape
        (3,)
    """
    inputs = jnp.asarray(np.column_stack([parents, noise]), dtype=jnp.float32)
    mlp = _glorot_mlp(inputs.shape[1], width, rng)
    return np.asarray(jax.vmap(mlp)(inputs), dtype=np.float64)


MECHANISMS: dict[str, Callable[..., Effect]] = {
    "linear": linear,
    "polynomial": polynomial,
    "sigmoid_add": sigmoid_add,
    "sigmoid_mix": sigmoid_mix,
    "gp_add": gp_add,
    "gp_mix": gp_mix,
    "nn": nn,
}
