"""Media transforms against plain numpy loops and closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from causalda_jax.mmm import delayed_adstock, fit_geometric_decay, geometric_adstock, hill, logistic_saturation
from mmm_oracle import loop_adstock


def test_geometric_adstock_matches_loop_and_closed_form(x64, rng):
    x = rng.gamma(2.0, size=(40, 3))
    decay = np.array([0.0, 0.5, 0.9])
    got = np.asarray(geometric_adstock(x, decay))
    np.testing.assert_allclose(got, loop_adstock(x, decay), rtol=1e-12)
    # Closed form: a_t = sum_l decay^l x_{t-l}.
    t = 25
    closed = sum(decay**l * x[t - l] for l in range(t + 1))
    np.testing.assert_allclose(got[t], closed, rtol=1e-12)
    # An impulse decays geometrically and its total effect tends to 1 / (1 - decay).
    impulse = np.zeros(400)
    impulse[0] = 1.0
    np.testing.assert_allclose(float(jnp.sum(geometric_adstock(impulse, 0.9))), 10.0, rtol=1e-10)


def test_delayed_adstock_matches_convolution(x64, rng):
    x = rng.gamma(2.0, size=(30, 2))
    decay, delay, L = np.array([0.6, 0.3]), np.array([0.0, 2.0]), 6
    w = decay[None, :] ** ((np.arange(L)[:, None] - delay[None, :]) ** 2)
    w = w / w.sum(axis=0)
    expected = np.zeros_like(x)
    for t in range(30):
        for l in range(L):
            if t - l >= 0:
                expected[t] += w[l] * x[t - l]
    np.testing.assert_allclose(np.asarray(delayed_adstock(x, decay, delay, max_lag=L)), expected, rtol=1e-12)
    # Normalised weights: a constant spend is preserved once the window is full.
    const = np.asarray(delayed_adstock(np.ones((20, 2)), decay, delay, max_lag=L))
    np.testing.assert_allclose(const[L:], 1.0, rtol=1e-12)


def test_hill_values_half_point_and_gradient(x64):
    x = np.array([0.0, 0.5, 2.0, 8.0, 1e6])
    k, s = 2.0, 1.7
    expected = x**s / (x**s + k**s)
    np.testing.assert_allclose(np.asarray(hill(x, k, s)), expected, rtol=1e-12, atol=1e-15)
    assert float(hill(k, k, s)) == pytest.approx(0.5, abs=1e-15)
    # Finite gradients at zero spend (masked log), and the derivative matches finite differences.
    g = jax.grad(lambda kk: jnp.sum(hill(jnp.asarray(x), kk, s)))(k)
    fd = (np.sum(hill(x, k + 1e-6, s)) - np.sum(hill(x, k - 1e-6, s))) / 2e-6
    assert np.isfinite(g) and float(g) == pytest.approx(float(fd), rel=1e-6)


def test_logistic_saturation_closed_form(x64):
    x = np.linspace(0, 5, 11)
    lam = 0.7
    expected = (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x))
    np.testing.assert_allclose(np.asarray(logistic_saturation(x, lam)), expected, rtol=1e-12, atol=1e-15)


def test_fit_geometric_decay_recovers_decays(rng):
    x = rng.gamma(2.0, size=(300, 2))
    y = 2 * loop_adstock(x[:, :1], 0.7)[:, 0] + 1.0 * loop_adstock(x[:, 1:], 0.2)[:, 0] + rng.normal(0, 0.2, 300)
    np.testing.assert_allclose(fit_geometric_decay(x, y), [0.7, 0.2], atol=1e-9)
