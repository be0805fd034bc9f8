"""Equinox MLP wrappers: scikit-learn contract, weighting oracles, determinism, early stopping, no retrace."""

import jax
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import check_get_params_invariance, check_set_params

from causalda_jax.models import MLP, MLPClassifier, MLPRegressor, train
from tracing import count_traces

# Every fit trains with optax's AdamW (see PROMOTION_REASONS in conftest.py).
pytestmark = pytest.mark.standard_promotion("optax")

# A small shared configuration: a few compiled programs reused across tests keeps the file fast.
SMALL = dict(hidden_layer_sizes=(16,), max_iter=60, validation_fraction=0.0)


@pytest.fixture
def linear_data(rng):
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=120)
    return X, y


def test_sklearn_contract(linear_data):
    X, y = linear_data
    reg = MLPRegressor((8, 4), "tanh", learning_rate=0.05, random_state=3)
    params = reg.get_params()
    assert params["hidden_layer_sizes"] == (8, 4) and params["activation"] == "tanh" and params["random_state"] == 3
    other = clone(reg)
    assert other is not reg and other.get_params() == params
    reg.set_params(max_iter=7)
    assert reg.max_iter == 7
    check_get_params_invariance("MLPRegressor", MLPRegressor())
    check_set_params("MLPClassifier", MLPClassifier())
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(X)
    fitted = MLPRegressor(**SMALL)
    assert fitted.fit(X, y) is fitted
    assert fitted.predict(X).shape == (120,) and fitted.predict(X).dtype == np.float32
    assert fitted.n_features_in_ == 3 and fitted.n_epochs_ == 60 and fitted.best_epoch_ == 60
    assert fitted.loss_curve_.shape == (60,) and fitted.validation_loss_curve_ is None
    # clone of a fitted estimator drops the fitted state.
    assert not hasattr(clone(fitted), "model_")


def test_regressor_learns_a_linear_function(linear_data, rng):
    X, y = linear_data
    reg = MLPRegressor(**SMALL).fit(X, y)
    X_test = rng.normal(size=(200, 3))
    assert reg.score(X_test, X_test @ np.array([1.0, -2.0, 0.5])) > 0.95


@pytest.mark.slow
def test_multi_output_and_dataframe_input(linear_data):
    X, y = linear_data
    Y = np.c_[y, -3 * y]
    reg = MLPRegressor(**SMALL).fit(pd.DataFrame(X, columns=["a", "b", "c"]), Y)
    assert list(reg.feature_names_in_) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="select and order the columns"):
        reg.predict(pd.DataFrame(X, columns=["c", "b", "a"]))
    pred = reg.predict(X)
    assert pred.shape == (120, 2)
    # The second output is -3 times the first; the fit should find that to within a few percent of scale.
    assert np.corrcoef(pred[:, 0], pred[:, 1])[0, 1] < -0.99


def test_integer_weights_equal_duplicated_rows(linear_data):
    # Full-batch weighted training on w_i = k_i is the same optimisation as on rows repeated k_i times
    # (weighted standardisation included), so the fitted functions agree up to float32 rounding.
    # The counts sum to 120, so both fits share one compiled program.
    X, y = linear_data
    counts = np.tile([2, 1, 0, 1], 30)
    weighted = MLPRegressor(**SMALL).fit(X, y, sample_weight=counts)
    repeated = MLPRegressor(**SMALL).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-3, atol=1e-3)
    unweighted = MLPRegressor(**SMALL).fit(X, y)
    assert np.max(np.abs(unweighted.predict(X) - weighted.predict(X))) > 1e-2  # the weights do matter


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(batch_size=None, learning_rate=0.01),
        pytest.param(dict(batch_size=16, minibatch="weighted", learning_rate=0.002), marks=pytest.mark.slow),
        pytest.param(dict(batch_size=16, minibatch="shuffle", learning_rate=0.002), marks=pytest.mark.slow),
    ],
    ids=["full", "weighted", "shuffle"],
)
def test_weights_shift_the_minimiser_to_the_weighted_mean(kwargs):
    # Identical inputs with targets 0 (weight 3) and 1 (weight 1): the weighted-MSE minimiser is 0.25.
    X = np.zeros((120, 3))
    y = np.r_[np.zeros(60), np.ones(60)]
    w = np.r_[np.full(60, 3.0), np.ones(60)]
    reg = MLPRegressor(**{**SMALL, "standardize": False, **kwargs})
    pred = reg.fit(X, y, sample_weight=w).predict(X[:1])[0]
    assert abs(pred - 0.25) < 0.03


def test_deterministic_under_a_seed(linear_data):
    X, y = linear_data
    kw = {**SMALL, "batch_size": 16}
    a = MLPRegressor(**kw, random_state=1).fit(X, y).predict(X)
    b = MLPRegressor(**kw, random_state=1).fit(X, y).predict(X)
    c = MLPRegressor(**kw, random_state=2).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# Few noisy rows and a wide network overfit quickly, so the validation loss turns up and training stops.
EARLY = dict(hidden_layer_sizes=(32, 32), learning_rate=0.03, max_iter=300, validation_fraction=0.25, n_iter_no_change=5)


@pytest.mark.slow
def test_early_stopping_keeps_the_best_epoch(rng):
    X = rng.normal(size=(40, 2))
    y = X[:, 0] + rng.normal(size=40)
    reg = MLPRegressor(**EARLY).fit(X, y)
    assert reg.n_epochs_ < 300
    assert reg.n_epochs_ == reg.best_epoch_ + 5
    curve = reg.validation_loss_curve_
    assert curve.shape == (reg.n_epochs_,)
    assert np.argmin(curve) + 1 == reg.best_epoch_
    # The returned parameters are those of the best epoch: recompute the validation loss by hand.
    perm = np.random.default_rng(reg.random_state).permutation(40)
    vi = np.sort(perm[:10])
    resid = (reg.predict(X[vi]) - y[vi]) / reg.y_scale_[0]
    np.testing.assert_allclose(np.mean(resid**2), curve.min(), rtol=1e-4)


def test_fits_do_not_retrace(rng):
    # One compiled program serves every epoch and every later fit with the same shapes and static
    # configuration, whatever the seed, learning rate, weight decay or data values.
    X = rng.normal(size=(40, 2))
    y = X[:, 0] + rng.normal(size=40)
    with count_traces() as first:
        MLPRegressor(**EARLY).fit(X, y)
    with count_traces() as later:
        fitted = MLPRegressor(**{**EARLY, "learning_rate": 0.1, "weight_decay": 0.01, "random_state": 7})
        fitted.fit(X + 1, y * 2, sample_weight=np.arange(1, 41))
        MLPRegressor(**{**EARLY, "random_state": 8}).fit(-X, y)
    assert first["_fit"] <= 1 and later["_fit"] == 0
    assert fitted.n_epochs_ > 1  # several epochs ran inside the one compiled program


@pytest.mark.slow
def test_train_function_on_a_linear_module(x64):
    # Full-batch AdamW on a least-squares problem reaches the numpy solution.
    import equinox as eqx

    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 2))
    y = X @ np.array([[1.5], [-0.5]]) + 0.3
    lin = eqx.nn.Linear(2, 1, key=jax.random.key(0))  # float64 parameters under x64, like the data
    res = train(lin, X, y, np.ones(50), key=jax.random.key(1), learning_rate=0.05, max_epochs=800)
    np.testing.assert_allclose(res.model.weight[0], [1.5, -0.5], atol=1e-3)
    np.testing.assert_allclose(res.model.bias, [0.3], atol=1e-3)
    assert int(res.n_epochs) == 800 and np.isnan(res.val_loss).all()


def test_mlp_module_shapes(key):
    net = MLP(4, 3, (), "relu", key=key)  # no hidden layer: a linear map
    assert len(net.layers) == 1
    assert jax.vmap(net)(np.ones((2, 4), np.float32)).shape == (2, 3)
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(4, 3, (2,), "swish2", key=key)


@pytest.mark.slow
def test_classifier(rng):
    X = np.r_[rng.normal(-2, 1, size=(60, 2)), rng.normal(2, 1, size=(60, 2))]
    y = np.r_[["neg"] * 60, ["pos"] * 60]
    clf = MLPClassifier(**SMALL).fit(X, y)
    assert list(clf.classes_) == ["neg", "pos"]
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    assert clf.score(X, y) > 0.9
    # Weights that ignore the "pos" rows leave a classifier that says "neg" everywhere.
    only_neg = MLPClassifier(**SMALL).fit(X, y, sample_weight=np.r_[np.ones(60), np.zeros(60)])
    assert (only_neg.predict(X) == "neg").all()
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier(**SMALL).fit(X, np.zeros(120))


def test_works_inside_grid_search(linear_data):
    X, y = linear_data
    # 240 rows and cv=2: each fold trains on 120 rows, the shape the other tests compiled for.
    X2, y2 = np.r_[X, X[::-1] + 0.01], np.r_[y, y[::-1]]
    search = GridSearchCV(MLPRegressor(**SMALL), {"learning_rate": [1e-4, 0.01]}, cv=2, refit=False)
    search.fit(X2, y2)
    assert search.best_params_ == {"learning_rate": 0.01}


def test_bad_input_is_a_clear_error(linear_data):
    X, y = linear_data
    reg = MLPRegressor(**SMALL)
    with pytest.raises(ValueError, match="negative"):
        reg.fit(X, y, sample_weight=-np.ones(120))
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(X, y, sample_weight=np.r_[np.nan, np.ones(119)])
    with pytest.raises(ValueError, match="shape"):
        reg.fit(X, y, sample_weight=np.ones(3))
    X_nan = X.copy()
    X_nan[5, 1] = np.nan
    with pytest.raises(ValueError, match="row 5"):
        reg.fit(X_nan, y)
    with pytest.raises(ValueError, match="unknown activation"):
        MLPRegressor(activation="nope").fit(X, y)
    with pytest.raises(ValueError, match="minibatch"):
        MLPRegressor(minibatch="nope").fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        MLPRegressor(validation_fraction=1.0).fit(X, y)
    with pytest.raises(ValueError, match="zero total weight"):
        MLPRegressor(validation_fraction=0.5).fit(X, y, sample_weight=np.r_[np.ones(1), np.zeros(119)])
    with pytest.raises(ValueError, match="fitted with 3"):
        MLPRegressor(**SMALL).fit(X, y).predict(X[:, :2])
