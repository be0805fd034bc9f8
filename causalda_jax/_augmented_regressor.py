"""A scikit-learn meta-estimator that trains any weighted regressor on causally augmented data.

Training rows are mixed with augmented rows through sample weights: each of the ``n`` original
rows gets ``(1 - α) / n`` and each augmented row ``α · w_j`` (``w`` from :func:`causalda_jax.augment`,
summing to at most 1), then all weights are rescaled to sum to ``n``. The rescaling matters for
learners whose regularisation is stated in units of weight (XGBoost's ``min_child_weight`` and
``reg_lambda``, scikit-learn's ``min_weight_fraction_leaf`` is scale-free): with total weight ``n``
their hyperparameters mean what they mean on the unaugmented data.

The augmentation's hyperparameters (threshold θ, bandwidth scale τ, mixing coefficient α) can be
chosen by K-fold cross-validation in which only the training folds are augmented, the validation
fold is original rows scored without weights, and α = 0 (no augmentation) is always a candidate
and wins ties, so the chosen setting is never worse than the baseline on validation.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Hashable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import KFold, check_cv
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ._graph import CausalGraph, GraphLike, as_graph
from ._sample import fresh_seed
from ._sample_weight import check_sample_weight, mix_weights

__all__ = ["AugmentedRegressor"]

METHODS = ("augment", "sample")
GRID_KEYS = ("threshold", "bandwidth_scale", "aug_coeff", "augmentation_estimator")


def _library_augment(data: pd.DataFrame, graph: CausalGraph, **kwargs: Any) -> Any:
    from ._augment import augment

    return augment(data, graph, **kwargs)


def _library_sample(data: pd.DataFrame, graph: CausalGraph, n_samples: int, **kwargs: Any) -> pd.DataFrame:
    from ._sample import sample

    return sample(data, graph, n_samples, **kwargs)


class Augmenters(NamedTuple):
    """Where :class:`AugmentedRegressor` gets its rows: ``augment(data, graph, *, threshold,
    bandwidth_scale, **augment_kwargs)`` returning an object with ``data`` and ``weights`` (like
    :class:`~causalda_jax.AugmentedData`), and ``sample(data, graph, n_samples, *, seed,
    bandwidth_scale, **augment_kwargs)`` returning a DataFrame."""

    augment: Callable[..., Any]
    sample: Callable[..., pd.DataFrame]


class AugmentedRegressor(RegressorMixin, MetaEstimatorMixin, BaseEstimator):
    """Fit a regressor on training data plus causally augmented data, mixed by sample weights.

    Args:
        estimator: a regressor whose ``fit`` accepts ``sample_weight`` (``xgboost.XGBRegressor``,
            most scikit-learn regressors, :class:`causalda_jax.models.MLPRegressor`). Cloned, never
            modified.
        graph: causal graph over the feature columns and the target (CausalGraph, networkx
            DiGraph, JSON path or dict).
        target: name of the target node.
        method: ``"augment"`` (full weighted ADMG-DA) or ``"sample"`` (``n_samples`` ancestral draws
            from the same factorization, weight ``α / n_samples`` each).
        aug_coeff: α in [0, 1]: original rows weigh (1 − α)/n each, augmented rows α·w. The
            augmented weights w sum to the kept mass (≤ 1), so their share of the total is
            α·mass / (1 − α + α·mass), which is below α when pruning removed mass.
        threshold: θ passed to :func:`causalda_jax.augment`.
        bandwidth_scale: τ, multiplies every kernel bandwidth.
        n_samples: rows drawn when ``method="sample"`` (default: as many as training rows).
        augmentation_estimator: with ``method="sample"``, the sampler's conditional
            estimator(s) (``sample(..., estimator=...)``: ``None``/``"kernel"``, ``"anm"``,
            ``"mdn"``, a dict per node, ...). Named apart from ``estimator``, the regressor.
        param_grid: optional dict with lists for ``"threshold"``, ``"bandwidth_scale"``,
            ``"aug_coeff"`` and (with ``method="sample"``) ``"augmentation_estimator"``; when given, the
            combination is chosen by cross-validation (α = 0 is always added). Keys left out
            keep the single value given above.
        cv: folds (int, shuffled with ``random_state``) or a scikit-learn splitter.
        scoring: scikit-learn scoring name or callable; ``None`` uses ``estimator.score`` (R²).
        random_state: seed for fold shuffling and for ``method="sample"``; ``None`` draws a fresh
            seed from the operating system at each ``fit`` (recorded in ``seed_``), as
            :func:`~causalda_jax.sample` does with ``seed=None``.
        augment_kwargs: extra keyword arguments for ``augment`` (``method="augment"``) or ``sample``
            (``method="sample"``): ``kernel``, ``bandwidth``, ``categorical``, ``max_rows``, ``smoothing``, ...

    Class attribute:
        augmenters: the :class:`Augmenters` that produce the rows (default: :func:`causalda_jax.augment`
            and :func:`causalda_jax.sample`). A subclass may set its own, e.g. to plug in another
            augmentation with the same signatures.

    Fitted attributes:
        estimator_: the refitted estimator. best_params_: the θ, τ, α and conditional estimator
        used (all but α are None when α = 0). best_score_, cv_results_ (DataFrame, one row per candidate; None without a grid).
        augmentation_: the final ``AugmentedData`` (None when α = 0 or ``method="sample"``).
        n_augmented_: augmented rows in the final fit. sample_weight_: weights of the final fit
        (original rows first). feature_names_in_, n_features_in_.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from sklearn.linear_model import LinearRegression
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=30)
        >>> df = pd.DataFrame({"x": x, "y": 2 * x + 0.1 * rng.normal(size=30)})
        >>> reg = AugmentedRegressor(LinearRegression(), {"directed": [["x", "y"]]}, "y", aug_coeff=0.5)
        >>> reg.fit(df[["x"]], df["y"]).n_augmented_ > 30
        True
        >>> round(reg.score(df[["x"]], df["y"]), 1)
        1.0
    """

    augmenters = Augmenters(_library_augment, _library_sample)

    def __init__(
        self,
        estimator: Any,
        graph: GraphLike,
        target: Hashable,
        *,
        method: str = "augment",
        aug_coeff: float = 0.5,
        threshold: float = 1e-2,
        bandwidth_scale: float = 1.0,
        n_samples: int | None = None,
        augmentation_estimator: Any = None,
        param_grid: Mapping[str, Any] | None = None,
        cv: Any = 3,
        scoring: Any = None,
        random_state: int | None = 0,
        augment_kwargs: Mapping[str, Any] | None = None,
    ):
        self.estimator = estimator
        self.graph = graph
        self.target = target
        self.method = method
        self.aug_coeff = aug_coeff
        self.threshold = threshold
        self.bandwidth_scale = bandwidth_scale
        self.n_samples = n_samples
        self.augmentation_estimator = augmentation_estimator
        self.param_grid = param_grid
        self.cv = cv
        self.scoring = scoring
        self.random_state = random_state
        self.augment_kwargs = augment_kwargs

    # ------------------------------------------------------------------ fit

    def fit(self, X: pd.DataFrame, y: Any = None) -> "AugmentedRegressor":
        """Augment, optionally cross-validate θ, τ and α, and fit the estimator.

        Args:
            X: DataFrame of feature columns (graph nodes). May also hold the target column when
                ``y`` is None.
            y: target values (Series, array, or a DataFrame holding the ``target`` column).
        """
        graph = as_graph(self.graph)
        self._check_settings()
        data, features = self._joined(X, y, graph)
        self.seed_ = _seed_of(self.random_state)
        search = self._given_setting() if self.param_grid is None else self._search(data, features, graph)
        best = search.best_params
        if best["aug_coeff"] == 0:
            best = {**best, "threshold": None, "bandwidth_scale": None, "augmentation_estimator": None}
        self.cv_results_, self.best_score_, self.best_index_ = search.cv_results, search.best_score, search.best_index
        self.best_params_ = best
        final = self._augmented(data, graph, best, seed=self.seed_, quiet=False)
        self.augmentation_ = final.record
        self.estimator_, self.sample_weight_ = self._fit_mixed(data, features, final, best["aug_coeff"])
        self.n_augmented_ = 0 if best["aug_coeff"] == 0 else len(final.weights)
        self.feature_names_in_ = np.asarray(features, dtype=object)
        self.n_features_in_ = len(features)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict with the fitted estimator. A target column in ``X`` is ignored."""
        check_is_fitted(self, "estimator_")
        features = list(self.feature_names_in_)
        if isinstance(X, pd.DataFrame):
            missing = [str(c) for c in features if c not in X.columns]
            if missing:
                raise ValueError(f"X is missing feature columns {missing} that the model was fitted with")
            X = X[features]
        else:
            arr = np.asarray(X)
            if arr.ndim != 2 or arr.shape[1] != len(features):
                raise ValueError(
                    f"X must be a DataFrame with columns {features} (or an array of {len(features)} columns)"
                )
            X = pd.DataFrame(arr, columns=features)
        return np.asarray(self.estimator_.predict(X))

    # ------------------------------------------------------------ internals

    def _check_settings(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose 'augment' or 'sample'")
        if not 0.0 <= float(self.aug_coeff) <= 1.0:
            raise ValueError(f"aug_coeff must be in [0, 1]; got {self.aug_coeff!r}")
        if not has_fit_parameter(self.estimator, "sample_weight"):
            raise TypeError(
                f"{type(self.estimator).__name__}.fit does not accept sample_weight, which AugmentedRegressor needs "
                "to weight augmented rows. Use an estimator that does (xgboost.XGBRegressor, RandomForestRegressor, "
                "Ridge, causalda_jax.models.MLPRegressor, ...); for a Pipeline, augment with causalda_jax.augment and "
                "pass the weights to the final step yourself"
            )
        if self.param_grid is not None:
            if not isinstance(self.param_grid, Mapping):
                raise TypeError(f"param_grid must be a dict of lists; got {type(self.param_grid).__name__}")
            unknown = sorted(set(self.param_grid) - set(GRID_KEYS))
            if unknown:
                raise ValueError(f"unknown param_grid keys {unknown}; use {list(GRID_KEYS)}")
            for k, values in self.param_grid.items():
                if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or len(list(values)) == 0:
                    raise ValueError(f"param_grid[{k!r}] must be a non-empty list of values; got {values!r}")
            bad = [a for a in self.param_grid.get("aug_coeff", []) if not 0.0 <= float(a) <= 1.0]
            if bad:
                raise ValueError(f"param_grid['aug_coeff'] values must be in [0, 1]; got {bad}")
            if self.method == "sample" and "threshold" in self.param_grid:
                raise ValueError("threshold has no effect with method='sample'; remove it from param_grid")
            if self.method != "sample" and "augmentation_estimator" in self.param_grid:
                raise ValueError("augmentation_estimator applies to method='sample'; set it or remove it from param_grid")
        if self.method != "sample" and self.augmentation_estimator is not None:
            raise ValueError(
                f"augmentation_estimator={self.augmentation_estimator!r} applies to method='sample' only; set "
                "method='sample' or leave it None"
            )

    def _joined(self, X: Any, y: Any, graph: CausalGraph) -> tuple[pd.DataFrame, list]:
        """One DataFrame of features + target with a fresh RangeIndex; the user's objects are not touched."""
        target = self.target
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"X must be a pandas DataFrame whose columns are graph nodes; got {type(X).__name__}. "
                "Wrap it with pd.DataFrame(X, columns=[...])"
            )
        if target not in graph.nodes:
            raise ValueError(f"target {target!r} is not a node of the graph; nodes are {list(graph.nodes)}")
        if y is None:
            if target not in X.columns:
                raise ValueError(f"y is None and X has no target column {target!r}; pass y or add the column")
            data = X.reset_index(drop=True)
        else:
            if target in X.columns:
                raise ValueError(f"the target column {target!r} is in X and y is given too; drop it from X")
            if isinstance(y, pd.DataFrame):
                if target not in y.columns:
                    raise ValueError(f"y is a DataFrame without the target column {target!r}; its columns are "
                                     f"{list(y.columns)}")
                y = y[target]
            if isinstance(y, pd.Series) and not y.index.equals(X.index) and set(y.index) == set(X.index):
                raise ValueError("y and X have the same index labels in a different order; align them (y.loc[X.index])")
            values = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
            if values.ndim != 1 or len(values) != len(X):
                raise ValueError(f"y must be one value per row of X ({len(X)}); got shape {np.shape(values)}")
            data = X.reset_index(drop=True)  # a new frame (copy-on-write): X itself is never modified
            data[target] = values
        features = [c for c in data.columns if c != target]
        graph.check_columns(data.columns)
        if not pd.api.types.is_numeric_dtype(data[target]) or pd.api.types.is_bool_dtype(data[target]):
            raise TypeError(f"target {target!r} must be numeric for a regressor; got dtype {data[target].dtype}")
        if data[target].isna().any():
            raise ValueError(f"target {target!r} has missing values; drop or impute those rows")
        if len(data) < 2:
            raise ValueError(f"need at least 2 rows to fit; got {len(data)}")
        return data, features

    def _augmented(
        self, data: pd.DataFrame, graph: CausalGraph, params: Mapping[str, Any], *, seed: int, quiet: bool
    ) -> "_Augmentation":
        """Augmented rows, their raw weights (sum <= 1) and the AugmentedData (None for sampling)."""
        if params["aug_coeff"] == 0:
            return _Augmentation.empty(data)
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            drawn = self._draw(data, graph, params, seed)
        _check_augmentation(drawn, data)
        if len(drawn.rows) and drawn.weights.sum() > 0:
            return drawn._replace(rows=drawn.rows[list(data.columns)])
        if not quiet:
            warnings.warn(
                f"the augmentation is empty (threshold={params['threshold']}, bandwidth_scale="
                f"{params['bandwidth_scale']}); falling back to the baseline fit without augmentation. "
                "Lower the threshold or raise the bandwidth scale to get augmented rows",
                UserWarning,
                stacklevel=3,
            )
        return _Augmentation.empty(data)._replace(record=drawn.record)

    def _draw(self, data: pd.DataFrame, graph: CausalGraph, params: Mapping[str, Any], seed: int) -> "_Augmentation":
        """Rows from :attr:`augmenters`: weighted (``method="augment"``) or equally weighted draws."""
        kwargs = dict(self.augment_kwargs or {})
        if self.method == "augment":
            aug = self.augmenters.augment(
                data, graph, threshold=params["threshold"], bandwidth_scale=params["bandwidth_scale"], **kwargs
            )
            return _Augmentation(aug.data, np.asarray(aug.weights, dtype=np.float64), aug)
        m = len(data) if self.n_samples is None else int(self.n_samples)
        if params.get("augmentation_estimator") is not None:
            kwargs["estimator"] = params["augmentation_estimator"]
        frame = self.augmenters.sample(data, graph, m, seed=seed, bandwidth_scale=params["bandwidth_scale"], **kwargs)
        return _Augmentation(frame, np.full(len(frame), 1.0 / max(len(frame), 1)), None)

    def _fit_mixed(
        self, data: pd.DataFrame, features: list, aug: "_Augmentation", alpha: float
    ) -> tuple[Any, np.ndarray]:
        w = mix_weights(len(data), aug.weights, alpha)
        rows = pd.concat([data, aug.rows], ignore_index=True) if len(aug.weights) and alpha > 0 else data
        keep = w > 0  # α = 1 zeroes the original rows; dropping them changes no weighted loss
        if not keep.all():
            rows, w = rows.loc[keep].reset_index(drop=True), w[keep]
        est = clone(self.estimator)
        est.fit(rows[features], rows[self.target], sample_weight=w)
        return est, w

    def _candidates(self) -> list[dict]:
        grid = dict(self.param_grid)
        alphas = sorted({float(a) for a in grid.get("aug_coeff", [self.aug_coeff])} - {0.0})
        thresholds = list(grid.get("threshold", [self.threshold]))
        scales = list(grid.get("bandwidth_scale", [self.bandwidth_scale]))
        conditionals = list(grid.get("augmentation_estimator", [self.augmentation_estimator]))
        out = [{"threshold": None, "bandwidth_scale": None, "aug_coeff": 0.0, "augmentation_estimator": None}]
        for t, s, e, a in itertools.product(thresholds, scales, conditionals, alphas):
            out.append({"threshold": t, "bandwidth_scale": s, "aug_coeff": a, "augmentation_estimator": e})
        return out

    def _given_setting(self) -> "_SearchResult":
        """The single setting of the constructor, without cross-validation."""
        best = {
            "threshold": self.threshold,
            "bandwidth_scale": self.bandwidth_scale,
            "aug_coeff": float(self.aug_coeff),
            "augmentation_estimator": self.augmentation_estimator,
        }
        return _SearchResult(best, None, None, None)

    def _search(self, data: pd.DataFrame, features: list, graph: CausalGraph) -> "_SearchResult":
        """K-fold cross-validation over the candidates; the first best mean score wins."""
        if isinstance(self.cv, (int, np.integer)):
            splitter = KFold(int(self.cv), shuffle=True, random_state=self.seed_ % 2**32)
        else:
            splitter = check_cv(self.cv)
        scorer = check_scoring(self.estimator, scoring=self.scoring)
        candidates = self._candidates()
        folds = [
            self._score_fold(data.iloc[tr].reset_index(drop=True), data.iloc[va], features, graph, candidates, scorer,
                             seed=self.seed_ + k)
            for k, (tr, va) in enumerate(splitter.split(data))
        ]
        _warn_about_folds(folds)
        scores = np.stack([f.scores for f in folds], axis=1)
        # A candidate's mean is NaN if any fold failed; NaN never wins. argmax takes the first maximum
        # and the baseline (α = 0) is first, so augmentation must strictly beat it to be chosen.
        mean = scores.mean(axis=1)
        best = int(np.nanargmax(np.where(np.isnan(mean), -np.inf, mean)))
        return _SearchResult(dict(candidates[best]), best, float(mean[best]), _cv_table(candidates, folds))

    def _fold_augmentations(self, train: pd.DataFrame, graph: CausalGraph, candidates: list, seed: int):
        """One augmentation of the training fold per (θ, τ, conditional), shared by every α; an
        :class:`AugmentationOverflowError` stands in for the augmentation it stopped."""
        from ._augment import AugmentationOverflowError

        by_key: dict = {}
        failures = []
        for params in candidates:
            key = _generated_by(params)
            if key in by_key:
                continue
            try:
                by_key[key] = self._augmented(train, graph, params, seed=seed, quiet=True)
            except AugmentationOverflowError as e:
                by_key[key] = e
                failures.append(f"threshold={params['threshold']}, bandwidth_scale={params['bandwidth_scale']}: {e}")
        return by_key, failures

    def _score_fold(self, train, val, features, graph, candidates, scorer, *, seed: int) -> "_FoldScores":
        """Fit every candidate on the (augmented) training fold and score it on the validation fold."""
        by_key, failures = self._fold_augmentations(train, graph, candidates, seed)
        n = len(candidates)
        scores, n_aug, fit_time = np.full(n, np.nan), np.zeros(n), np.zeros(n)
        empty = set()
        for c, params in enumerate(candidates):
            aug = by_key[_generated_by(params)]
            if isinstance(aug, Exception):
                continue  # score stays NaN: never selected
            if params["aug_coeff"] > 0 and len(aug.weights) == 0:
                empty.add(c)
            start = time.perf_counter()
            est, _ = self._fit_mixed(train, features, aug, params["aug_coeff"])
            fit_time[c] = time.perf_counter() - start
            scores[c] = scorer(est, val[features], val[self.target])
            n_aug[c] = len(aug.weights) if params["aug_coeff"] > 0 else 0
        return _FoldScores(scores, n_aug, fit_time, failures, frozenset(empty))


class _Augmentation(NamedTuple):
    """Augmented rows, their raw weights (sum <= 1) and the record (``AugmentedData``; None for sampling)."""

    rows: pd.DataFrame
    weights: np.ndarray
    record: Any

    @classmethod
    def empty(cls, data: pd.DataFrame) -> "_Augmentation":
        return cls(data.iloc[:0], np.zeros(0), None)


class _FoldScores(NamedTuple):
    """One fold of the search, per candidate."""

    scores: np.ndarray  # validation score (NaN when the augmentation failed)
    n_augmented: np.ndarray  # augmented rows in the fit
    fit_time: np.ndarray  # seconds
    failures: list  # augmentations that overflowed, in words
    empty: frozenset  # candidates whose augmentation came back empty


class _SearchResult(NamedTuple):
    best_params: dict
    best_index: int | None
    best_score: float | None
    cv_results: pd.DataFrame | None


def _generated_by(params: Mapping[str, Any]) -> tuple | None:
    """What an augmentation depends on (None for the baseline, which has none)."""
    if params["aug_coeff"] > 0:
        return (params["threshold"], params["bandwidth_scale"], repr(params["augmentation_estimator"]))
    return None


def _check_augmentation(drawn: _Augmentation, data: pd.DataFrame) -> None:
    frame, weights = drawn.rows, drawn.weights
    if len(weights) != len(frame):
        raise ValueError(f"augmentation returned {len(frame)} rows but {len(weights)} weights")
    if len(weights) and not (np.all(np.isfinite(weights)) and np.all(weights >= 0)):
        check_sample_weight(weights, len(weights), name="augmented weights")  # raises, naming the row
    if len(frame) and set(frame.columns) != set(data.columns):
        raise ValueError(f"augmentation returned columns {list(frame.columns)}, expected {list(data.columns)}")


def _warn_about_folds(folds: list) -> None:
    failures = sorted({f for fold in folds for f in fold.failures})
    if failures:
        warnings.warn(
            "some candidates could not be augmented and were skipped: " + "; ".join(failures),
            UserWarning,
            stacklevel=4,
        )
    empty = set().union(*(fold.empty for fold in folds))
    if empty:
        warnings.warn(
            f"the augmentation was empty in some folds for {len(empty)} candidate(s); those folds were fitted "
            "without augmentation (see cv_results_['mean_n_augmented'])",
            UserWarning,
            stacklevel=4,
        )


def _cv_table(candidates: list, folds: list) -> pd.DataFrame:
    """``cv_results_``: one row per candidate, as scikit-learn's searches lay it out."""
    scores = np.stack([f.scores for f in folds], axis=1)
    mean = scores.mean(axis=1)
    table = {f"param_{k}": [p[k] for p in candidates] for k in GRID_KEYS}
    for k in range(len(folds)):
        table[f"split{k}_test_score"] = scores[:, k]
    table["mean_test_score"] = mean
    table["std_test_score"] = scores.std(axis=1)
    table["rank_test_score"] = pd.Series(mean).rank(ascending=False, method="min", na_option="bottom").astype(int)
    table["mean_n_augmented"] = np.stack([f.n_augmented for f in folds], axis=1).mean(axis=1)
    table["mean_fit_time"] = np.stack([f.fit_time for f in folds], axis=1).mean(axis=1)
    return pd.DataFrame(table)


def _seed_of(random_state: int | None) -> int:
    """The integer seed of a fit: ``random_state`` itself, or a fresh one for ``None``."""
    if random_state is None:
        return fresh_seed()
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ValueError(f"random_state must be a non-negative int or None, got {random_state!r}")
    return int(random_state)
