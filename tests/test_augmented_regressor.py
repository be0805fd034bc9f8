"""AugmentedRegressor: weight mixing by hand, CV by hand, injected fake augmenters for selection logic, real augment
end to end."""

import types
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeRegressor
from xgboost import XGBRegressor

from causalda_jax import AugmentedData, CausalGraph
from causalda_jax._augmented_regressor import AugmentedRegressor, Augmenters
from causalda_jax._sample_weight import mix_weights
from causalda_jax.models import MLPRegressor

GRAPH = CausalGraph(["x", "y"], directed=[("x", "y")])


class WeightedMean(RegressorMixin, BaseEstimator):
    """Predicts the weighted mean of y; records what fit received."""

    def fit(self, X, y, sample_weight=None):
        self.X_, self.y_ = X.copy(), np.asarray(y, dtype=float)
        self.w_ = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.mean_ = float(np.sum(self.w_ * self.y_) / np.sum(self.w_))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class NoWeights(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        return self


def _frame(n, rng, noise=0.3):
    x = rng.uniform(-2, 2, size=n)
    return pd.DataFrame({"x": x, "y": np.sin(2 * x) + noise * rng.normal(size=n)})


def _fake_augment(rows, weights, calls=None):
    """An augment stand-in returning fixed rows and weights, recording what it was given."""

    def fake(data, graph, **kwargs):
        if calls is not None:
            calls.append((data.copy(), kwargs))
        frame = rows(data) if callable(rows) else rows
        w = weights(frame) if callable(weights) else np.asarray(weights, dtype=float)
        return types.SimpleNamespace(data=frame, weights=w)

    return fake


def _unused(*args, **kwargs):
    raise AssertionError("this augmenter must not run")


def _with_augmenters(augment=_unused, sample=_unused):
    """An AugmentedRegressor class that draws its rows from the given stand-ins."""

    class Injected(AugmentedRegressor):
        augmenters = Augmenters(augment, sample)

    return Injected


def test_mix_weights_by_hand():
    # n = 4 originals, augmented weights (0.2, 0.3), α = 0.4: raw (0.15,)*4 + (0.08, 0.12), total 0.8,
    # rescaled by 4 / 0.8 = 5 to sum to n.
    np.testing.assert_allclose(mix_weights(4, np.array([0.2, 0.3]), 0.4), [0.75, 0.75, 0.75, 0.75, 0.4, 0.6])
    np.testing.assert_allclose(mix_weights(3, np.array([0.5]), 0.0), [1, 1, 1, 0])
    np.testing.assert_allclose(mix_weights(3, np.zeros(0), 0.7), [1, 1, 1])
    np.testing.assert_allclose(mix_weights(2, np.array([1.0]), 1.0), [0, 0, 2])
    with pytest.raises(ValueError, match="augmented weights .* NaN"):
        mix_weights(3, np.array([0.1, np.nan]), 0.5)
    with pytest.raises(ValueError, match="augmented weights .* negative"):
        mix_weights(3, np.array([0.1, -0.1]), 0.5)
    with pytest.raises(ValueError, match="aug_coeff"):
        mix_weights(3, np.array([0.1]), 1.5)


def test_fit_passes_mixed_rows_and_weights(rng):
    data = _frame(10, rng)
    extra = pd.DataFrame({"x": [5.0, 6.0, 7.0], "y": [10.0, 20.0, 30.0]})
    calls = []
    Regressor = _with_augmenters(augment=_fake_augment(extra, [0.1, 0.2, 0.1], calls))
    reg = Regressor(WeightedMean(), GRAPH, "y", aug_coeff=0.25, threshold=0.05, bandwidth_scale=2.0)
    reg.fit(data[["x"]], data["y"])
    (seen, kwargs), = calls
    pd.testing.assert_frame_equal(seen, data)
    assert kwargs == {"threshold": 0.05, "bandwidth_scale": 2.0}
    est = reg.estimator_
    assert list(est.X_.columns) == ["x"] and len(est.X_) == 13
    np.testing.assert_array_equal(est.X_["x"].to_numpy()[10:], [5.0, 6.0, 7.0])
    expected_w = np.r_[np.full(10, 0.75 / 10), 0.25 * np.array([0.1, 0.2, 0.1])]
    expected_w *= 10 / expected_w.sum()
    np.testing.assert_allclose(est.w_, expected_w, rtol=1e-12)
    np.testing.assert_allclose(reg.sample_weight_.sum(), 10.0, rtol=1e-12)
    y_all = np.r_[data["y"].to_numpy(), [10.0, 20.0, 30.0]]
    np.testing.assert_allclose(reg.predict(data[["x"]]), np.average(y_all, weights=expected_w), rtol=1e-12)
    assert reg.n_augmented_ == 3 and reg.best_params_["aug_coeff"] == 0.25
    assert reg.cv_results_ is None


def test_y_forms_agree_and_inputs_are_not_mutated(rng):
    data = _frame(12, rng)
    data.index = np.arange(100, 112)
    Regressor = _with_augmenters(augment=_fake_augment(lambda d: d.iloc[:4] * 2, np.full(4, 0.25)))
    X, y = data[["x"]], data["y"]
    X_before, y_before = X.copy(), y.copy()
    reg = Regressor(WeightedMean(), GRAPH, "y")
    preds = [
        clone(reg).fit(X, y).predict(X),
        clone(reg).fit(X, y.to_numpy()).predict(X),
        clone(reg).fit(X, data[["y"]]).predict(X),
        clone(reg).fit(data).predict(data),  # target inside X, ignored at predict time
    ]
    for p in preds[1:]:
        np.testing.assert_array_equal(p, preds[0])
    pd.testing.assert_frame_equal(X, X_before)
    pd.testing.assert_series_equal(y, y_before)
    assert reg.set_params(aug_coeff=0.1) is reg
    # score is R² of predict
    fitted = clone(reg).fit(X, y)
    assert fitted.score(X, y) == pytest.approx(r2_score(y, fitted.predict(X)))


def test_sklearn_clone_and_nested_params():
    reg = AugmentedRegressor(XGBRegressor(max_depth=3), GRAPH, "y", param_grid={"aug_coeff": [0.5]}, cv=4)
    params = reg.get_params(deep=True)
    assert params["estimator__max_depth"] == 3 and params["cv"] == 4 and params["target"] == "y"
    other = clone(reg)
    assert other.graph == GRAPH and other.param_grid == {"aug_coeff": [0.5]}
    assert other.estimator is not reg.estimator
    other.set_params(estimator__max_depth=2)
    assert other.estimator.max_depth == 2 and reg.estimator.max_depth == 3


def test_bad_input_is_a_clear_error(rng):
    data = _frame(10, rng)
    X, y = data[["x"]], data["y"]
    with pytest.raises(ValueError, match="target 'z' is not a node of the graph"):
        AugmentedRegressor(Ridge(), GRAPH, "z").fit(X, y)
    with pytest.raises(ValueError, match=r"data columns missing from the graph: \['w'\]"):
        AugmentedRegressor(Ridge(), GRAPH, "y").fit(X.assign(w=1.0), y)
    with pytest.raises(ValueError, match=r"graph nodes missing from the data: \['x'\]"):
        AugmentedRegressor(Ridge(), GRAPH, "y").fit(X.rename(columns={"x": "q"}), y)
    with pytest.raises(ValueError, match="in X and y is given too"):
        AugmentedRegressor(Ridge(), GRAPH, "y").fit(data, y)
    with pytest.raises(ValueError, match="no target column 'y'"):
        AugmentedRegressor(Ridge(), GRAPH, "y").fit(X)
    with pytest.raises(ValueError, match="without the target column 'y'"):
        AugmentedRegressor(Ridge(), GRAPH, "y").fit(X, data[["x"]])
    with pytest.raises(ValueError, match="different order"):
        AugmentedRegressor(Ridge(), GRAPH, "y").fit(X, y.iloc[::-1])
    with pytest.raises(TypeError, match="pandas DataFrame"):
        AugmentedRegressor(Ridge(), GRAPH, "y").fit(X.to_numpy(), y)
    with pytest.raises(TypeError, match="KNeighborsRegressor.fit does not accept sample_weight"):
        AugmentedRegressor(KNeighborsRegressor(), GRAPH, "y").fit(X, y)
    with pytest.raises(TypeError, match="NoWeights.fit does not accept sample_weight"):
        AugmentedRegressor(NoWeights(), GRAPH, "y").fit(X, y)
    with pytest.raises(ValueError, match="unknown method"):
        AugmentedRegressor(Ridge(), GRAPH, "y", method="mixup").fit(X, y)
    with pytest.raises(ValueError, match="aug_coeff must be in"):
        AugmentedRegressor(Ridge(), GRAPH, "y", aug_coeff=-0.1).fit(X, y)
    with pytest.raises(ValueError, match="unknown param_grid keys"):
        AugmentedRegressor(Ridge(), GRAPH, "y", param_grid={"alpha": [1.0]}).fit(X, y)
    with pytest.raises(ValueError, match="non-empty list"):
        AugmentedRegressor(Ridge(), GRAPH, "y", param_grid={"threshold": []}).fit(X, y)
    with pytest.raises(TypeError, match="must be numeric"):
        AugmentedRegressor(Ridge(), GRAPH, "y").fit(X, np.array(["a"] * 10))
    for bad in ([0.5, np.nan], [0.5, -0.1]):
        Regressor = _with_augmenters(augment=_fake_augment(lambda d: d.iloc[:2], bad))
        with pytest.raises(ValueError, match="augmented weights"):
            Regressor(Ridge(), GRAPH, "y").fit(X, y)
    fitted = AugmentedRegressor(WeightedMean(), GRAPH, "y", aug_coeff=0.0).fit(X, y)
    with pytest.raises(ValueError, match=r"missing feature columns \['x'\]"):
        fitted.predict(pd.DataFrame({"q": [1.0]}))


def test_empty_augmentation_falls_back_to_the_baseline(rng):
    data = _frame(15, rng)
    Regressor = _with_augmenters(augment=_fake_augment(lambda d: d.iloc[:0], np.zeros(0)))
    with pytest.warns(UserWarning, match="augmentation is empty .* falling back to the baseline"):
        reg = Regressor(Ridge(), GRAPH, "y", aug_coeff=0.5).fit(data[["x"]], data["y"])
    assert reg.n_augmented_ == 0
    np.testing.assert_array_equal(reg.sample_weight_, np.ones(15))
    base = Ridge().fit(data[["x"]], data["y"])
    np.testing.assert_allclose(reg.predict(data[["x"]]), base.predict(data[["x"]]), rtol=1e-12)


def test_aug_coeff_zero_never_calls_augment(rng):
    def boom(*args, **kwargs):
        raise AssertionError("augment must not run when aug_coeff = 0")

    Regressor = _with_augmenters(augment=boom)
    data = _frame(15, rng)
    reg = Regressor(Ridge(), GRAPH, "y", aug_coeff=0.0).fit(data[["x"]], data["y"])
    assert reg.best_params_ == {"threshold": None, "bandwidth_scale": None, "aug_coeff": 0.0,
                                "augmentation_estimator": None}
    assert reg.augmentation_ is None


def test_cv_scores_match_a_hand_computed_loop(rng):
    # Augmented rows: a fixed shifted copy of the fold's training rows. The CV table must equal a
    # plain KFold loop that augments the training fold only and scores R² on the validation fold.
    data = _frame(30, rng)
    shift = lambda d: d.assign(y=d["y"] + 1.0)  # noqa: E731
    calls = []
    Regressor = _with_augmenters(augment=_fake_augment(shift, lambda f: np.full(len(f), 1.0 / len(f)), calls))
    grid = {"aug_coeff": [0.3, 0.6], "threshold": [0.1, 0.01]}
    reg = Regressor(Ridge(), GRAPH, "y", param_grid=grid, cv=3, random_state=4)
    reg.fit(data[["x"]], data["y"])
    res = reg.cv_results_
    assert list(res["param_aug_coeff"]) == [0.0, 0.3, 0.6, 0.3, 0.6]
    # θ and τ do not apply to the baseline row: NaN there (None in best_params_).
    assert np.isnan(res["param_threshold"].iloc[0]) and list(res["param_threshold"].iloc[1:]) == [0.1, 0.1, 0.01, 0.01]
    # One augmentation per fold per threshold (reused across α), plus the final refit (if α > 0 wins).
    assert len(calls) == 3 * 2 + (reg.best_params_["aug_coeff"] > 0)
    folds = list(KFold(3, shuffle=True, random_state=4).split(data))
    for (seen, _), (tr, va) in zip(calls[::2], folds):
        np.testing.assert_array_equal(seen["x"].to_numpy(), data["x"].to_numpy()[tr])  # validation rows unseen
    for c, alpha in enumerate(res["param_aug_coeff"]):
        for k, (tr, va) in enumerate(folds):
            train, val = data.iloc[tr].reset_index(drop=True), data.iloc[va]
            aug = shift(train)
            w = mix_weights(len(train), np.full(len(aug), 1.0 / len(aug)), alpha)
            rows = pd.concat([train, aug], ignore_index=True) if alpha > 0 else train
            est = Ridge().fit(rows[["x"]], rows["y"], sample_weight=w[: len(rows)])
            expected = r2_score(val["y"], est.predict(val[["x"]]))
            assert res[f"split{k}_test_score"].iloc[c] == pytest.approx(expected, rel=1e-10)
    assert reg.best_score_ == res["mean_test_score"].max()
    assert res["rank_test_score"].iloc[reg.best_index_] == 1


def test_cv_rejects_harmful_and_keeps_helpful_augmentation(rng):
    data = _frame(40, rng, noise=0.5)
    X, y = data[["x"]], data["y"]
    grid = {"aug_coeff": [0.5, 0.9]}
    # Harmful: augmented targets are pure noise unrelated to x.
    noise = lambda d: d.assign(y=np.random.default_rng(1).normal(0, 3, len(d)))  # noqa: E731
    Harmful = _with_augmenters(augment=_fake_augment(noise, lambda f: np.full(len(f), 1.0 / len(f))))
    bad = Harmful(DecisionTreeRegressor(max_depth=3, random_state=0), GRAPH, "y", param_grid=grid)
    bad.fit(X, y)
    assert bad.best_params_["aug_coeff"] == 0.0 and bad.n_augmented_ == 0
    assert bad.best_score_ == bad.cv_results_["mean_test_score"].iloc[0]
    # Helpful: 400 fresh noise-free-ish draws from the true relation; a deep tree overfits 27 rows alone.
    fresh = lambda d: _frame(400, np.random.default_rng(2), noise=0.05)  # noqa: E731
    Helpful = _with_augmenters(augment=_fake_augment(fresh, np.full(400, 1.0 / 400)))
    good = Helpful(DecisionTreeRegressor(random_state=0), GRAPH, "y", param_grid=grid).fit(X, y)
    assert good.best_params_["aug_coeff"] > 0 and good.n_augmented_ == 400
    scores = good.cv_results_["mean_test_score"]
    assert good.best_score_ > scores.iloc[0] + 0.1
    # Never worse than the baseline on validation, by construction.
    for reg in (bad, good):
        assert reg.best_score_ >= reg.cv_results_["mean_test_score"].iloc[0]


def test_overflowing_candidate_is_skipped_with_a_warning(rng):
    from causalda_jax import AugmentationOverflowError

    data = _frame(30, rng)
    shift = _fake_augment(lambda d: d.assign(y=d["y"] + 1.0), lambda f: np.full(len(f), 1.0 / len(f)))

    def overflow_at_0_1(d, graph, **kwargs):
        if kwargs["threshold"] == 0.1:
            raise AugmentationOverflowError("too many rows")
        return shift(d, graph, **kwargs)

    grid = {"aug_coeff": [0.3, 0.6], "threshold": [0.1, 0.01]}
    with pytest.warns(UserWarning, match=r"could not be augmented .* threshold=0\.1, bandwidth_scale=1\.0: too many"):
        reg = _with_augmenters(augment=overflow_at_0_1)(Ridge(), GRAPH, "y", param_grid=grid, random_state=4)
        reg.fit(data[["x"]], data["y"])
    res = reg.cv_results_
    skipped = res["param_threshold"] == 0.1
    assert res.loc[skipped, "mean_test_score"].isna().all() and res["rank_test_score"][skipped].min() == 4
    # The other candidates score as in a search that never had the failing threshold.
    alone = _with_augmenters(augment=shift)(Ridge(), GRAPH, "y", param_grid={**grid, "threshold": [0.01]},
                                            random_state=4).fit(data[["x"]], data["y"])
    np.testing.assert_array_equal(res.loc[~skipped, "mean_test_score"], alone.cv_results_["mean_test_score"])
    assert reg.best_params_ == alone.best_params_


def test_sample_method_gives_equal_weights(rng):
    data = _frame(20, rng)
    seen = {}

    def fake_sample(d, graph, n_samples, **kwargs):
        seen.update(n=n_samples, **kwargs)
        return _frame(n_samples, np.random.default_rng(kwargs["seed"]))

    Regressor = _with_augmenters(sample=fake_sample)
    reg = Regressor(WeightedMean(), GRAPH, "y", method="sample", aug_coeff=0.4, n_samples=50, random_state=3)
    reg.fit(data[["x"]], data["y"])
    assert seen == {"n": 50, "seed": 3, "bandwidth_scale": 1.0}
    w = reg.estimator_.w_
    # (1 - α)/n = 0.03 per original row, α/M = 0.008 per sampled row, rescaled to sum to n = 20.
    np.testing.assert_allclose(w, np.r_[np.full(20, 0.03), np.full(50, 0.008)] * 20 / 1.0, rtol=1e-12)
    assert reg.n_augmented_ == 50 and reg.augmentation_ is None
    with pytest.raises(ValueError, match="threshold has no effect"):
        AugmentedRegressor(Ridge(), GRAPH, "y", method="sample", param_grid={"threshold": [0.1]}).fit(
            data[["x"]], data["y"]
        )


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_equinox_regressor_inside(rng):
    # 60 rows + 60 augmented rows of 3 features: the shapes test_models.py compiles for, so no new compile.
    graph = CausalGraph(["a", "b", "c", "y"], directed=[("a", "y"), ("b", "y"), ("c", "y")])
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = X["a"] - 2 * X["b"]
    fresh = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    fresh["y"] = fresh["a"] - 2 * fresh["b"]
    Regressor = _with_augmenters(augment=_fake_augment(fresh, np.full(60, 1 / 60)))
    mlp = MLPRegressor((16,), max_iter=60, validation_fraction=0.0)
    reg = Regressor(mlp, graph, "y", aug_coeff=0.5).fit(X, y)
    assert reg.estimator_.n_features_in_ == 3 and reg.n_augmented_ == 60
    assert reg.score(fresh[["a", "b", "c"]], fresh["y"]) > 0.9
    # The MLP saw the mixed weights: equal halves, so both blocks sum to 30 after rescaling to n = 60.
    np.testing.assert_allclose(reg.sample_weight_, np.full(120, 0.5))


# ----------------------------------------------------------------- real augmentation, end to end


@pytest.fixture
def chain_data():
    rng = np.random.default_rng(0)
    n = 24
    a = rng.normal(size=n)
    b = a + 0.5 * rng.normal(size=n)
    y = np.tanh(b) + 0.3 * rng.normal(size=n)
    graph = CausalGraph(["a", "b", "y"], directed=[("a", "b"), ("b", "y")])
    return pd.DataFrame({"a": a, "b": b, "y": y}), graph


@pytest.mark.parametrize(
    "estimator",
    [
        pytest.param(XGBRegressor(n_estimators=10, max_depth=2, n_jobs=1), marks=pytest.mark.slow),
        Ridge(alpha=1.0),
    ],
    ids=["xgboost", "ridge"],
)
def test_real_augment_end_to_end(chain_data, estimator):
    data, graph = chain_data
    X, y = data[["a", "b"]], data["y"]
    reg = AugmentedRegressor(estimator, graph, "y", aug_coeff=0.5, threshold=1e-2).fit(X, y)
    assert isinstance(reg.augmentation_, AugmentedData)
    m = len(reg.augmentation_)
    assert reg.n_augmented_ == m > 0
    assert reg.sample_weight_.shape == (24 + m,)
    assert reg.sample_weight_.sum() == pytest.approx(24.0, rel=1e-12)
    # Half the (rescaled) weight sits on the original rows.
    assert reg.sample_weight_[:24].sum() == pytest.approx(24.0 / (0.5 + 0.5 * reg.augmentation_.mass) * 0.5)
    pred = reg.predict(X)
    assert pred.shape == (24,) and np.all(np.isfinite(pred))
    base = clone(estimator).fit(X, y).predict(X)
    assert not np.allclose(pred, base)


@pytest.mark.slow
def test_real_augment_cross_validation_with_xgboost(chain_data):
    data, graph = chain_data
    reg = AugmentedRegressor(
        XGBRegressor(n_estimators=10, max_depth=2, n_jobs=1),
        graph,
        "y",
        param_grid={"aug_coeff": [0.5]},
        cv=2,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg.fit(data[["a", "b"]], data["y"])
    # Every candidate augmented every fold: no empty-fold or skipped-candidate warnings.
    assert not [w for w in caught if "augment" in str(w.message)]
    res = reg.cv_results_
    assert len(res) == 2 and res["param_aug_coeff"].iloc[0] == 0.0
    assert (res["mean_n_augmented"].iloc[1:] > 0).all()
    assert reg.best_score_ >= res["mean_test_score"].iloc[0]
    assert reg.best_score_ == pytest.approx(res["mean_test_score"].max())


def test_real_sample_method(chain_data):
    data, graph = chain_data
    X, y = data[["a", "b"]], data["y"]
    reg = AugmentedRegressor(Ridge(), graph, "y", method="sample", aug_coeff=0.5, n_samples=64, random_state=1)
    reg.fit(X, y)
    assert reg.n_augmented_ == 64 and reg.augmentation_ is None
    # Equal halves of the total weight n = 24: 0.5 per original row, 0.5 * 24 / 64 per sampled row.
    np.testing.assert_allclose(reg.sample_weight_, np.r_[np.full(24, 0.5), np.full(64, 12 / 64)], rtol=1e-12)
    again = clone(reg).fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), again.predict(X))  # deterministic under random_state


def test_random_state_none_draws_a_recorded_seed(chain_data):
    data, graph = chain_data
    X, y = data[["a", "b"]], data["y"]
    make = lambda state: AugmentedRegressor(  # noqa: E731
        Ridge(), graph, "y", method="sample", aug_coeff=0.5, n_samples=64, random_state=state
    )
    a, b = make(None).fit(X, y), make(None).fit(X, y)
    assert a.seed_ != b.seed_  # two 62-bit draws: equal with probability 2**-62
    assert not np.array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(make(a.seed_).fit(X, y).predict(X), a.predict(X))
    assert make(7).fit(X, y).seed_ == 7
    with pytest.raises(ValueError, match="random_state"):
        make(-1).fit(X, y)
