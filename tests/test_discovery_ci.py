"""CI tests: Fisher-z against an independent scipy partial correlation; RCIT power and size."""

import numpy as np
import pytest
from scipy import stats

from causalda_jax.discovery import fisher_z, make_ci_test, rcit


def _reference_partial(data, x, y, z):
    """Partial correlation from lstsq residuals + scipy.stats.pearsonr, Fisher-z p-value by formula."""
    n = data.shape[0]
    design = np.c_[np.ones(n), data[:, z]]
    rx = data[:, x] - design @ np.linalg.lstsq(design, data[:, x], rcond=None)[0]
    ry = data[:, y] - design @ np.linalg.lstsq(design, data[:, y], rcond=None)[0]
    r = stats.pearsonr(rx, ry).statistic
    stat = np.sqrt(n - len(z) - 3) * np.arctanh(r)
    return r, 2 * stats.norm.sf(abs(stat))


@pytest.mark.parametrize("z", [[], [2], [2, 3], [1, 3, 4]])
def test_fisher_z_matches_scipy_partial_correlation(rng, z):
    n = 300
    a = rng.normal(size=n)
    b = 0.3 * a + rng.normal(size=n)
    c = a + b + rng.normal(size=n)
    d = rng.normal(size=n)
    e = c - d + rng.normal(size=n)
    data = np.c_[a, b, c, d, e]
    x, y = 0, 4
    if 1 in z:
        x = 0
        y = 2
    r, p = fisher_z(data, x, y, z)
    r_ref, p_ref = _reference_partial(data, x, y, z)
    np.testing.assert_allclose(r, r_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p, p_ref, rtol=1e-6, atol=1e-300)


def test_make_ci_test_dispatch(rng):
    data = rng.normal(size=(100, 3))
    assert make_ci_test(data)(0, 1, [2]) == fisher_z(data, 0, 1, [2])[1]
    with pytest.raises(ValueError, match="unknown conditional-independence test 'kci'"):
        make_ci_test(data, "kci")


def test_rcit_detects_dependence_fisher_z_misses(rng):
    # y = x^2 + noise with x symmetric by construction: zero linear correlation, strong dependence.
    u = rng.normal(size=250)
    x = np.r_[u, -u]
    y = x**2 + 0.3 * rng.normal(size=500)
    data = np.c_[x, y]
    assert fisher_z(data, 0, 1)[1] > 0.01
    assert rcit(data, 0, 1)[1] < 1e-4


@pytest.mark.slow
def test_rcit_size_under_nonlinear_conditional_independence():
    # x -> z -> y with nonlinear links: x independent of y given z. Over 40 data sets the
    # rejection rate at 5% should stay near 5% (bound 0.2 allows binomial noise and the gamma
    # approximation), while without conditioning it is near 1.
    rng = np.random.default_rng(1)
    reject_cond, reject_marg = 0, 0
    for rep in range(40):
        n = 300
        x = rng.normal(size=n)
        z = np.tanh(1.5 * x) + 0.3 * rng.normal(size=n)
        y = np.sin(2 * z) + 0.3 * rng.normal(size=n)
        data = np.c_[x, y, z]
        reject_cond += rcit(data, 0, 1, [2], seed=rep)[1] < 0.05
        reject_marg += rcit(data, 0, 1, seed=rep)[1] < 0.05
    assert reject_cond / 40 <= 0.2
    assert reject_marg / 40 >= 0.9
