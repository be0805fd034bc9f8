"""Budget allocation against the equal-marginal-return closed form."""

import jax.numpy as jnp
import numpy as np
import pytest

from causalda_jax.mmm import allocate_gradient, allocate_search, fit_hill_curve, project_to_budget

A = np.array([3.0, 1.0, 2.0, 5.0])
B = np.array([1.0, 2.0, 0.5, 3.0])


def _closed_form(total, active):
    """Optimum of sum a log(1 + x/b) with the channels outside `active` at 0: a/(b + x) = lambda."""
    lam = A[active].sum() / (total + B[active].sum())
    x = np.zeros_like(A)
    x[active] = A[active] / lam - B[active]
    return x


def _response(x):
    return jnp.sum(A * jnp.log1p(x / B))


@pytest.mark.standard_promotion("optax")
@pytest.mark.parametrize("total, active", [(20.0, [0, 1, 2, 3]), (10.0, [0, 2, 3])])
def test_gradient_allocation_matches_closed_form(total, active):
    x = allocate_gradient(_response, total, np.zeros(4), np.full(4, total), init=np.full(4, total / 4))
    np.testing.assert_allclose(x, _closed_form(total, active), atol=2e-2 * total / 4)
    assert x.sum() == pytest.approx(total, rel=1e-5)
    assert (x >= -1e-6).all()


@pytest.mark.standard_promotion("optax")
def test_gradient_allocation_respects_bounds():
    total = 20.0
    upper = np.array([4.0, 20.0, 20.0, 20.0])
    x = allocate_gradient(_response, total, np.zeros(4), upper)
    assert x[0] == pytest.approx(4.0, abs=1e-4)
    assert x.sum() == pytest.approx(total, rel=1e-5)
    # The free channels share equal marginal returns.
    marginal = A[1:] / (B[1:] + x[1:])
    assert np.ptp(marginal) < 1e-2 * marginal.mean()
    with pytest.raises(ValueError, match="outside what the bounds allow"):
        allocate_gradient(_response, 100.0, np.zeros(4), upper)


def test_search_allocation_on_the_same_problem():
    total = 20.0
    f = lambda X: np.sum(A * np.log1p(X / B), axis=1)  # noqa: E731
    x = allocate_search(f, total, np.zeros(4), np.full(4, total), rounds=40, candidates=64)
    best = _closed_form(total, [0, 1, 2, 3])
    assert f(x[None])[0] == pytest.approx(f(best[None])[0], rel=1e-3)
    assert x.sum() == pytest.approx(total, rel=1e-9)


def test_projection_is_the_euclidean_projection(x64, rng):
    from scipy.optimize import minimize

    v = rng.normal(size=5) * 3
    lo, hi, total = np.full(5, -1.0), np.full(5, 2.0), 3.0
    got = np.asarray(project_to_budget(v, total, lo, hi))
    ref = minimize(lambda y: np.sum((y - v) ** 2), np.full(5, 0.6), bounds=list(zip(lo, hi)),
                   constraints=[{"type": "eq", "fun": lambda y: y.sum() - total}], method="SLSQP").x
    np.testing.assert_allclose(got, ref, atol=1e-5)


@pytest.mark.standard_promotion("optax")
def test_hill_surrogate_fit_recovers_parameters():
    x = np.linspace(0, 3000, 21)
    top, k, s = fit_hill_curve(x, 800 * x**1.5 / (x**1.5 + 1000**1.5))
    assert (top, k, s) == pytest.approx((800, 1000, 1.5), rel=1e-2)
