"""Weighted losses: values against numpy/scipy, gradients against closed forms and finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp

from causalda_jax.losses import (
    per_example_error,
    weighted_cross_entropy,
    weighted_huber,
    weighted_loss,
    weighted_mae,
    weighted_mse,
)
from causalda_jax._sample_weight import check_sample_weight


def _central_difference(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        grad[i] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return grad


def test_weighted_loss_matches_numpy(x64, rng):
    losses, w = rng.exponential(size=50), rng.uniform(size=50)
    got = weighted_loss(jnp.asarray(losses), jnp.asarray(w))
    np.testing.assert_allclose(got, np.average(losses, weights=w), rtol=1e-12)
    # Jitted value equals eager; uniform weights give the plain mean; the scale of w does not matter.
    np.testing.assert_allclose(jax.jit(weighted_loss)(losses, w), got, rtol=1e-12)
    np.testing.assert_allclose(weighted_loss(losses, np.ones(50)), losses.mean(), rtol=1e-12)
    np.testing.assert_allclose(weighted_loss(losses, 1e6 * w), got, rtol=1e-12)


def test_weighted_regression_losses_match_numpy(x64, rng):
    pred, target, w = rng.normal(size=(40, 3)), rng.normal(size=(40, 3)), rng.uniform(size=40)
    r = pred - target
    np.testing.assert_allclose(weighted_mse(pred, target, w), np.average((r**2).mean(1), weights=w), rtol=1e-12)
    np.testing.assert_allclose(weighted_mae(pred, target, w), np.average(np.abs(r).mean(1), weights=w), rtol=1e-12)
    delta = 0.7
    a = np.abs(r)
    huber = np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta))
    np.testing.assert_allclose(weighted_huber(pred, target, w, delta), np.average(huber.mean(1), weights=w), rtol=1e-12)


def test_cross_entropy_matches_scipy(x64, rng):
    logits, labels, w = rng.normal(size=(30, 4)) * 3, rng.integers(0, 4, 30), rng.uniform(size=30)
    per = logsumexp(logits, axis=1) - logits[np.arange(30), labels]
    np.testing.assert_allclose(per_example_error("cross_entropy", jnp.asarray(logits), jnp.asarray(labels)), per, rtol=1e-12)
    np.testing.assert_allclose(weighted_cross_entropy(logits, labels, w), np.average(per, weights=w), rtol=1e-12)


def test_gradient_wrt_weights_closed_form_and_finite_differences(x64, rng):
    losses, w = rng.exponential(size=12), rng.uniform(0.1, 1.0, size=12)
    grad = jax.grad(weighted_loss, argnums=1)(losses, w)
    closed = (losses - np.average(losses, weights=w)) / w.sum()
    np.testing.assert_allclose(grad, closed, rtol=1e-10, atol=1e-14)
    fd = _central_difference(jax.jit(lambda v: weighted_loss(losses, v)), w)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("which", ["mse", "mae", "huber", "cross_entropy"])
def test_gradient_wrt_params_and_weights_finite_differences(x64, rng, which):
    # A linear model f(x) = x @ theta; losses composed with it, differentiated in theta and w jointly.
    X, w = rng.normal(size=(20, 3)), rng.uniform(0.2, 1.0, size=20)
    if which == "cross_entropy":
        y, theta = rng.integers(0, 2, 20), rng.normal(size=(3, 2))

        def f(theta, w):
            return weighted_cross_entropy(X @ theta, y, w)
    else:
        # Keep residuals away from the kinks of |r| and of Huber so finite differences are valid.
        theta = rng.normal(size=(3, 1))
        y = X @ theta + np.sign(rng.normal(size=(20, 1))) * rng.uniform(0.1, 0.5, size=(20, 1))
        loss = {"mse": weighted_mse, "mae": weighted_mae, "huber": lambda p, t, v: weighted_huber(p, t, v, 0.3)}[which]

        def f(theta, w):
            return loss(X @ theta, y, w)

    f = jax.jit(f)
    g_theta, g_w = jax.grad(f, argnums=(0, 1))(theta, w)
    np.testing.assert_allclose(g_theta, _central_difference(lambda t: f(t, w), theta), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g_w, _central_difference(lambda v: f(theta, v), w), rtol=1e-6, atol=1e-9)


def test_huber_gradient_is_finite_at_zero_residual():
    g = jax.grad(lambda p: per_example_error("huber", p[None], jnp.zeros(1), 1.0)[0])(0.0)
    assert float(g) == 0.0


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="one weight per example"):
        weighted_loss(jnp.ones(3), jnp.ones(4))
    with pytest.raises(ValueError, match="targets have shape"):
        weighted_mse(jnp.ones(3), jnp.ones((3, 1)), jnp.ones(3))


def test_all_zero_weights_give_nan_not_a_number():
    assert np.isnan(float(weighted_loss(jnp.ones(3), jnp.zeros(3))))


def test_check_sample_weight_rejects_bad_weights():
    np.testing.assert_array_equal(check_sample_weight(None, 2), [1.0, 1.0])
    np.testing.assert_array_equal(check_sample_weight(2.0, 2), [2.0, 2.0])
    with pytest.raises(ValueError, match="negative entries .* at row 1"):
        check_sample_weight([1.0, -0.5, 1.0], 3)
    with pytest.raises(ValueError, match="NaN or infinite .* row 2"):
        check_sample_weight([1.0, 1.0, np.nan], 3)
    with pytest.raises(ValueError, match="all zero"):
        check_sample_weight([0.0, 0.0], 2)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        check_sample_weight([1.0, 1.0], 3)
    with pytest.raises(TypeError, match="numeric"):
        check_sample_weight(["a", "b"], 2)
