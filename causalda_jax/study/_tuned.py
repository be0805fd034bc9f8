"""The downstream model of the protocol: XGBoost tuned by weighted grid-search cross-validation."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

__all__ = ["TunedXGBRegressor"]

# Below this many rows XGBoost's exact greedy splits are several times faster than "hist"
# (whose per-fit quantile sketch dominates on a few hundred rows).
_EXACT_ROWS = 50_000


class TunedXGBRegressor(RegressorMixin, BaseEstimator):
    """``GridSearchCV(XGBRegressor)`` with an explicit ``sample_weight`` in ``fit``.

    The weights are passed to every fold's fit (validation folds are scored unweighted by
    mean squared error) and to the final refit. An explicit ``sample_weight`` argument lets
    ``AugmentedRegressor`` wrap it. ``tree_method`` is ``"exact"`` up to 50 000 rows.

    Args:
        param_grid: XGBoost hyperparameters to search.
        cv: folds, shuffled with ``random_state``.
        random_state: seed of the folds and of XGBoost.

    Example:
        >>> import numpy as np
        >>> X = np.arange(40.0).reshape(20, 2); y = X[:, 0]
        >>> m = TunedXGBRegressor({"n_estimators": [5], "reg_lambda": [1]}, cv=2).fit(X, y)
        >>> m.best_params_
        {'n_estimators': 5, 'reg_lambda': 1}
    """

    def __init__(self, param_grid: dict | None = None, cv: int = 3, random_state: int = 0):
        self.param_grid = param_grid
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None) -> "TunedXGBRegressor":
        from sklearn.model_selection import GridSearchCV, KFold
        from xgboost import XGBRegressor

        method = "exact" if len(X) <= _EXACT_ROWS else "hist"
        base = XGBRegressor(n_jobs=1, tree_method=method, random_state=self.random_state, verbosity=0)
        grid = self.param_grid or {"n_estimators": [100]}
        search = GridSearchCV(
            base,
            grid,
            cv=KFold(self.cv, shuffle=True, random_state=self.random_state),
            scoring="neg_mean_squared_error",
            n_jobs=1,
        )
        search.fit(X, np.asarray(y), sample_weight=sample_weight)
        self.search_ = search
        self.best_params_ = dict(search.best_params_)
        return self

    def predict(self, X) -> np.ndarray:
        return self.search_.predict(X)
