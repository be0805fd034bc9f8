"""Metrics against closed forms and scipy/sklearn references."""

import numpy as np
import pytest
import scipy.stats
import sklearn.metrics

from causalda_jax.metrics import (
    diversity,
    effective_sample_size,
    frac_augmented,
    frac_filtered,
    kl_divergence,
    mape,
    r2_score,
    wasserstein,
)


def _kl_gauss(mu0, cov0, mu1, cov1):
    inv1 = np.linalg.inv(cov1)
    diff = mu1 - mu0
    d = len(mu0)
    return 0.5 * (np.trace(inv1 @ cov0) + diff @ inv1 @ diff - d + np.log(np.linalg.det(cov1) / np.linalg.det(cov0)))


@pytest.mark.parametrize(
    "mu, scale, n, k",
    [
        (np.array([1.0, 0.0]), 1.0, 6000, 5),
        (np.array([0.0, 0.0]), 1.5, 6000, 5),
        (np.array([0.5, -0.5, 0.0]), 1.2, 6000, 5),
        # When Q is narrower than P, p's tails fall where q is sparse and the estimate converges
        # slowly (0.40 for a closed form of 0.56 in 3-D at n = 6000, k = 5); 1-D is still fine.
        (np.array([0.5]), 0.8, 6000, 5),
    ],
)
def test_knn_kl_matches_gaussian_closed_form(rng, mu, scale, n, k):
    # Tolerance 0.06 nats: the estimator's bias + noise at these sizes is a few hundredths.
    d = len(mu)
    p = rng.normal(size=(n, d))
    q = mu + scale * rng.normal(size=(n, d))
    expected = _kl_gauss(np.zeros(d), np.eye(d), mu, scale**2 * np.eye(d))
    assert abs(kl_divergence(p, q, k=k) - expected) < 0.06


def test_knn_kl_of_identical_laws_is_near_zero(rng):
    p, q = rng.normal(size=(4000, 2)), rng.normal(size=(4000, 2))
    assert abs(kl_divergence(p, q)) < 0.04


def test_weighted_knn_kl_uses_importance_weights(rng):
    # q drawn from N(0, 2^2 I), reweighted by N(mu, I) / N(0, 4 I) -> represents N(mu, I);
    # the weighted estimate must match KL(N(0, I) || N(mu, I)) = |mu|^2 / 2, the unweighted one must not.
    mu = np.array([1.5, 0.5])
    p = rng.normal(size=(5000, 2))
    q = 2.0 * rng.normal(size=(30000, 2))
    logw = scipy.stats.multivariate_normal(mu, np.eye(2)).logpdf(q) - scipy.stats.multivariate_normal(
        np.zeros(2), 4 * np.eye(2)
    ).logpdf(q)
    w = np.exp(logw - logw.max())
    expected = mu @ mu / 2
    assert abs(kl_divergence(p, q, q_weights=w) - expected) < 0.08
    assert abs(kl_divergence(p, q) - expected) > 0.2


def test_knn_kl_uniform_weights_equal_unweighted(rng):
    p = rng.normal(size=(3000, 1))
    q = rng.normal(0.7, 1.0, size=(3000, 1))
    w = np.full(3000, 2.5)
    np.testing.assert_allclose(
        kl_divergence(p, q, p_weights=w, q_weights=w), kl_divergence(p, q), rtol=1e-12
    )


def test_w1_one_dimensional_matches_scipy_with_weights(rng):
    x, y = rng.normal(size=40), rng.gamma(2.0, size=55)
    wx, wy = rng.random(40), rng.random(55)
    expected = scipy.stats.wasserstein_distance(x, y, wx, wy)
    np.testing.assert_allclose(wasserstein(x, y, x_weights=wx, y_weights=wy, method="exact"), expected, rtol=1e-8)
    # In 1-D the sliced estimate is exact (every projection is +-identity, E|theta| = 1).
    np.testing.assert_allclose(wasserstein(x, y, x_weights=wx, y_weights=wy, method="sliced"), expected, rtol=1e-8)


def test_w1_of_a_translation_is_the_shift_norm(rng):
    x = rng.normal(size=(150, 4))
    shift = np.array([0.3, -1.2, 0.0, 2.0])
    np.testing.assert_allclose(wasserstein(x, x + shift, method="exact"), np.linalg.norm(shift), rtol=1e-9)
    # Sliced: mean over 4000 directions of |<theta, s>| / E|theta_1|; Monte Carlo error ~1%, tolerance 4%.
    sliced = wasserstein(x, x + shift, method="sliced", n_projections=4000)
    np.testing.assert_allclose(sliced, np.linalg.norm(shift), rtol=0.04)


def test_sliced_is_a_lower_bound_close_to_exact(rng):
    x = rng.normal(size=(300, 3))
    y = rng.normal(size=(300, 3)) + np.array([2.0, 0.0, 0.0])
    exact = wasserstein(x, y, method="exact")
    sliced = wasserstein(x, y, method="sliced", n_projections=4000)
    assert sliced <= exact * 1.02
    assert sliced >= 0.6 * exact


def test_w1_ignores_row_duplication_when_weights_compensate(rng):
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(20, 2)) + 1.0
    doubled = np.vstack([y, y])
    np.testing.assert_allclose(
        wasserstein(x, doubled, y_weights=np.r_[np.full(20, 3.0), np.full(20, 1.0)], method="exact"),
        wasserstein(x, y, method="exact"),
        rtol=1e-9,
    )


def test_diversity_closed_forms(rng):
    x = rng.normal(size=(50, 3))
    # Weighted copies: each row twice with half weight -> same distribution -> 0.
    np.testing.assert_allclose(diversity(x, np.vstack([x, x]), weights=np.full(100, 0.5)), 0.0, atol=1e-12)
    # Scaling column j by s_j multiplies its variance by s_j^2.
    s = np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(diversity(x, x * s), np.mean(s**2 - 1), rtol=1e-12)
    # Weights: mass 1/2 on two points at +-1 -> variance 1.
    one = np.array([[-1.0], [1.0], [5.0]])
    np.testing.assert_allclose(diversity(np.array([[0.0], [2.0]]), one, weights=[1, 1, 0]), 0.0, atol=1e-12)


def test_kish_ess_closed_form():
    assert effective_sample_size(np.ones(7)) == pytest.approx(7.0)
    w = np.array([0.5, 0.25, 0.25])
    assert effective_sample_size(w) == pytest.approx(1.0 / np.sum(w**2))
    assert effective_sample_size(3 * w) == pytest.approx(effective_sample_size(w))
    assert effective_sample_size([]) == 0.0


def test_frac_augmented_and_filtered_by_value_and_by_source():
    train = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0], [3.0, 13.0]])
    # Rows: copy of 0, copy of 2, mix (0, 1), mix (2, 0), mix (3, 1).
    source = np.array([[0, 0], [2, 2], [0, 1], [2, 0], [3, 1]])
    augmented = train[source, [0, 1]]
    for kwargs in ({}, {"source_rows": source}):
        assert frac_augmented(train, augmented, **kwargs) == pytest.approx(3 / 4)
        assert frac_filtered(train, augmented, **kwargs) == pytest.approx(2 / 4)
    assert frac_filtered(train, np.empty((0, 2))) == 1.0
    assert frac_augmented(train, np.empty((0, 2))) == 0.0


def test_efficiency_metrics_match_sklearn(rng):
    y = rng.normal(size=30)
    yhat = y + 0.3 * rng.normal(size=30)
    w = rng.random(30)
    np.testing.assert_allclose(mape(y, yhat), sklearn.metrics.mean_absolute_percentage_error(y, yhat), rtol=1e-12)
    np.testing.assert_allclose(
        mape(y, yhat, sample_weight=w),
        sklearn.metrics.mean_absolute_percentage_error(y, yhat, sample_weight=w),
        rtol=1e-12,
    )
    np.testing.assert_allclose(r2_score(y, yhat), sklearn.metrics.r2_score(y, yhat), rtol=1e-12)
    np.testing.assert_allclose(
        r2_score(y, yhat, sample_weight=w), sklearn.metrics.r2_score(y, yhat, sample_weight=w), rtol=1e-12
    )


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="columns"):
        wasserstein(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="q_weights"):
        kl_divergence(np.zeros((10, 1)), np.zeros((10, 1)), q_weights=-np.ones(10))
    with pytest.raises(ValueError, match="method"):
        wasserstein(np.zeros(3), np.zeros(3), method="fast")
