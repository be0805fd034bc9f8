"""Categorical conditionals: a classifier's predicted class probabilities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from ._inputs import as_inputs

__all__ = ["CLASSIFIERS", "Classifier", "FittedClassifier"]

CLASSIFIERS = ("xgboost", "mlp", "logistic")


@dataclass(frozen=True, eq=False)
class FittedClassifier:
    """A fitted classifier over integer codes; predictions run on the host.

    Attributes:
        model: the fitted scikit-learn style classifier (None when one class was seen).
        classes: ``(k,)`` the codes seen in training, in the model's order.
    """

    model: Any
    classes: np.ndarray

    def probabilities(self, X: ArrayLike) -> Float[Array, "m k"]:
        """``(m, k)`` class probabilities, columns ordered as ``classes``."""
        X = np.asarray(X, np.float32)
        if self.model is None:
            return jnp.ones((X.shape[0], 1), jnp.float32)
        return jnp.asarray(self.model.predict_proba(X), jnp.float32)

    def sample(self, X: ArrayLike, *, key: PRNGKeyArray) -> Float[Array, " m"]:
        """One code per row, drawn from the predicted probabilities."""
        logits = jnp.log(self.probabilities(X))
        return jnp.asarray(self.classes, jnp.float32)[jax.random.categorical(key, logits, axis=-1)]

    def log_prob(self, X: ArrayLike, y: Int[ArrayLike, " m"]) -> Float[Array, " m"]:
        """``log P(y | x)``; ``-inf`` for a code never seen in training."""
        probs = self.probabilities(X)
        y = np.asarray(y)
        hit = y[:, None] == self.classes[None, :]
        return jnp.log(jnp.sum(jnp.where(jnp.asarray(hit), probs, 0.0), axis=-1))


class Classifier:
    """Conditional estimator for a categorical target (integer codes): draw from a classifier's probabilities.

    Args:
        kind: ``"xgboost"`` (default), ``"mlp"`` (:class:`causalda_jax.models.MLPClassifier`)
            or ``"logistic"`` (scikit-learn's multinomial logistic regression).
        params: keyword arguments for the classifier.

    Example:
        >>> import jax, numpy as np
        >>> X = np.r_[np.zeros(20), np.ones(20)][:, None]; y = X[:, 0].copy()
        >>> fitted = Classifier("logistic", {"C": 100.0}).fit(X, y, key=jax.random.key(0))
        >>> fitted.sample(np.array([[0.0], [1.0]]), key=jax.random.key(1)).tolist()
        [0.0, 1.0]
    """

    target_kind = "categorical"

    def __init__(self, kind: str = "xgboost", params: Mapping[str, Any] | None = None):
        if kind not in CLASSIFIERS:
            raise ValueError(f"unknown classifier {kind!r}; choose one of {list(CLASSIFIERS)}")
        self.kind = kind
        self.params = dict(params or {})

    def __repr__(self) -> str:
        return f"Classifier({self.kind!r})"

    def fit(self, X: ArrayLike, y: ArrayLike, weight: ArrayLike | None = None, *, key: PRNGKeyArray) -> FittedClassifier:
        """Fit on integer codes ``y`` with row weights."""
        Xa, ya, w = as_inputs(X, y, weight)
        codes = np.rint(ya).astype(np.int64)
        if not np.array_equal(codes, ya):
            raise ValueError("a classifier models categorical codes; y holds non-integer values")
        classes, labels = np.unique(codes, return_inverse=True)
        if classes.size == 1:
            return FittedClassifier(None, classes)
        seed = int(jax.random.randint(key, (), 0, 2**31 - 1))
        if self.kind == "xgboost":
            from xgboost import XGBClassifier

            settings = {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1, "n_jobs": 1, "verbosity": 0,
                        "random_state": seed, **self.params}
            model = XGBClassifier(**settings)
        elif self.kind == "mlp":
            from ..models import MLPClassifier

            model = MLPClassifier(**{"hidden_layer_sizes": (32,), "max_iter": 200, "random_state": seed, **self.params})
        else:
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(**{"max_iter": 1000, **self.params})
        return FittedClassifier(model.fit(Xa, labels, sample_weight=w), classes)
