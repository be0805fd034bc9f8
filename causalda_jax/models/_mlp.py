"""Equinox multilayer perceptrons with scikit-learn style regressor and classifier wrappers.

The wrappers are ordinary scikit-learn estimators (``clone``, ``get_params``, pipelines, grid
search) whose ``fit`` accepts ``sample_weight``, so they can be trained on weighted augmented
data exactly like XGBoost. The network itself is a pure Equinox module; training is the single
compiled loop of :func:`causalda_jax.models.train`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .._sample_weight import check_sample_weight
from ._training import MINIBATCH, train

__all__ = ["MLP", "MLPClassifier", "MLPRegressor"]

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "elu": jax.nn.elu,
    "sigmoid": jax.nn.sigmoid,
}


class MLP(eqx.Module):
    """A fully connected network on one example; batch it with ``jax.vmap``.

    Args:
        in_size: number of input features.
        out_size: number of outputs.
        hidden_sizes: width of each hidden layer (may differ per layer; empty for a linear model).
        activation: name in ``ACTIVATIONS``.
        key: PRNG key for the initial weights.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> net = MLP(3, 2, (8, 4), "tanh", key=jax.random.key(0))
        >>> jax.vmap(net)(jnp.ones((5, 3))).shape
        (5, 2)
    """

    layers: tuple[eqx.nn.Linear, ...]
    activation: Callable[[Array], Array] = eqx.field(static=True)

    def __init__(self, in_size: int, out_size: int, hidden_sizes: Sequence[int], activation: str, *, key: PRNGKeyArray):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        sizes = (in_size, *hidden_sizes, out_size)
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(eqx.nn.Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys))
        self.activation = ACTIVATIONS[activation]

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " k"]:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


@eqx.filter_jit
def _init_mlp(in_size: int, out_size: int, hidden_sizes: tuple[int, ...], activation: str, key: PRNGKeyArray) -> MLP:
    # Initialising eagerly dispatches (and compiles) every small random op one by one; one compiled
    # initialiser per architecture is much cheaper.
    return MLP(in_size, out_size, hidden_sizes, activation, key=key)


@eqx.filter_jit
def _forward(model: MLP, X: Float[Array, "n d"]) -> Float[Array, "n k"]:
    return jax.vmap(model)(X)


def _as_features(X: ArrayLike, n_features: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise TypeError(f"X must be numeric (convert categorical columns first): {e}") from None
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D (rows, features); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        rows = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise ValueError(
            f"X has NaN or infinite values in {rows.size} rows (first: row {rows[0]}); impute or drop them"
        )
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"X has {arr.shape[1]} features but the model was fitted with {n_features}")
    return arr


def _weighted_moments(a: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Weighted statistics so that integer weights and duplicated rows standardise identically.
    p = w / w.sum()
    mean = p @ a
    scale = np.sqrt(p @ (a - mean) ** 2)
    return mean.astype(np.float32), np.where(scale > 0, scale, 1.0).astype(np.float32)


class _BaseMLP(BaseEstimator):
    """Shared hyperparameters and the fit skeleton of the two wrappers."""

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (64, 64),
        activation: str = "relu",
        *,
        learning_rate: float = 1e-2,
        weight_decay: float = 0.0,
        max_iter: int = 300,
        batch_size: int | None = None,
        minibatch: str = "weighted",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 20,
        standardize: bool = True,
        random_state: int = 0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.minibatch = minibatch
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.standardize = standardize
        self.random_state = random_state

    def _check_params(self) -> None:
        hidden = tuple(self.hidden_layer_sizes)
        if not all(isinstance(h, (int, np.integer)) and h > 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {sorted(ACTIVATIONS)}")
        if self.minibatch not in MINIBATCH:
            raise ValueError(f"unknown minibatch {self.minibatch!r}; choose one of {MINIBATCH}")
        if self.batch_size is not None and not (isinstance(self.batch_size, (int, np.integer)) and self.batch_size > 0):
            raise ValueError(f"batch_size must be None (full batch) or a positive integer; got {self.batch_size!r}")
        if not (isinstance(self.max_iter, (int, np.integer)) and self.max_iter > 0):
            raise ValueError(f"max_iter must be a positive integer; got {self.max_iter!r}")
        if not (isinstance(self.n_iter_no_change, (int, np.integer)) and self.n_iter_no_change > 0):
            raise ValueError(f"n_iter_no_change must be a positive integer; got {self.n_iter_no_change!r}")
        if not (0.0 <= float(self.validation_fraction) < 1.0):
            raise ValueError(f"validation_fraction must be in [0, 1); got {self.validation_fraction!r}")
        if not float(self.learning_rate) > 0:
            raise ValueError(f"learning_rate must be positive; got {self.learning_rate!r}")

    def _fit_arrays(self, Xs: np.ndarray, ys: np.ndarray, w: np.ndarray, out_size: int, loss: str, **kw) -> None:
        self._check_params()
        n = Xs.shape[0]
        # Weights rescaled to mean one: the loss does not change, and float32 keeps tiny weights.
        w32 = (w / w.mean()).astype(np.float32)
        n_val = int(round(self.validation_fraction * n))
        if self.validation_fraction > 0 and n_val == 0:
            n_val = 1
        if n_val >= n:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no training rows out of {n}; lower it or set 0"
            )
        val = (None, None, None)
        if n_val:
            # A numpy Generator seeded explicitly: the split is host work and needs no compiled kernel.
            perm = np.random.default_rng(self.random_state).permutation(n)
            vi, ti = np.sort(perm[:n_val]), np.sort(perm[n_val:])
            for part, idx in (("validation", vi), ("training", ti)):
                if not np.any(w32[idx] > 0):
                    raise ValueError(
                        f"the {part} split has zero total weight; change validation_fraction or random_state, or set "
                        "validation_fraction=0"
                    )
            val = (Xs[vi], ys[vi], w32[vi])
            Xs, ys, w32 = Xs[ti], ys[ti], w32[ti]
        hidden = tuple(int(h) for h in self.hidden_layer_sizes)
        init_key, train_key = jax.random.split(jax.random.key(self.random_state))
        res = train(
            _init_mlp(int(Xs.shape[1]), int(out_size), hidden, self.activation, init_key),
            Xs,
            ys,
            w32,
            *val,
            key=train_key,
            loss=loss,
            learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
            max_epochs=int(self.max_iter),
            batch_size=None if self.batch_size is None else int(self.batch_size),
            minibatch=self.minibatch,
            patience=int(self.n_iter_no_change),
            **kw,
        )
        self.model_ = res.model
        self.n_epochs_ = int(res.n_epochs)
        self.best_epoch_ = int(res.best_epoch)
        self.loss_curve_ = np.asarray(res.train_loss)[: self.n_epochs_]
        self.validation_loss_curve_ = np.asarray(res.val_loss)[: self.n_epochs_] if n_val else None
        if n_val and self.best_epoch_ == 0:
            warnings.warn(
                "the validation loss was never finite; the returned model is the untrained initialisation. "
                "Lower learning_rate or check the data",
                RuntimeWarning,
                stacklevel=3,
            )
        elif not np.all(np.isfinite(self.loss_curve_)):
            warnings.warn("the training loss became NaN or infinite; lower learning_rate", RuntimeWarning, stacklevel=3)

    def _prepare_X(self, X: ArrayLike, *, fitting: bool) -> np.ndarray:
        if fitting:
            if hasattr(X, "columns"):
                self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif hasattr(X, "columns") and hasattr(self, "feature_names_in_"):
            names = [str(c) for c in X.columns]
            if names != list(self.feature_names_in_):
                raise ValueError(
                    f"X has columns {names} but the model was fitted on {list(self.feature_names_in_)}; "
                    "select and order the columns as in fit"
                )
        Xa = _as_features(X, None if fitting else self.n_features_in_)
        if fitting:
            self.n_features_in_ = Xa.shape[1]
        return Xa

    def _standardised(self, Xa: np.ndarray) -> jnp.ndarray:
        return jnp.asarray((Xa - self.x_mean_) / self.x_scale_)

    def _set_x_stats(self, Xa: np.ndarray, w: np.ndarray) -> None:
        if self.standardize:
            self.x_mean_, self.x_scale_ = _weighted_moments(Xa, w)
        else:
            self.x_mean_ = np.zeros(Xa.shape[1], np.float32)
            self.x_scale_ = np.ones(Xa.shape[1], np.float32)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Equinox MLP regressor trained with AdamW on a weighted loss.

    Args:
        hidden_layer_sizes: hidden layer widths.
        activation: ``"relu"``, ``"tanh"``, ``"gelu"``, ``"silu"``, ``"elu"`` or ``"sigmoid"``.
        loss: ``"mse"``, ``"mae"`` or ``"huber"`` (with ``huber_delta`` in standardised units).
        learning_rate: AdamW step size.
        weight_decay: AdamW decoupled weight decay.
        max_iter: most epochs to run.
        batch_size: ``None`` for full-batch steps, else rows per minibatch.
        minibatch: ``"weighted"`` (rows drawn with probability proportional to weight) or ``"shuffle"``.
        validation_fraction: rows held out (at random) for early stopping; 0 disables it.
        n_iter_no_change: epochs without validation improvement before stopping.
        standardize: standardise inputs and targets with weighted means and deviations.
        random_state: integer seed for initialisation, the validation split and minibatches (same seed, same model).

    Fitted attributes: ``model_`` (the Equinox module, on standardised data), ``n_features_in_``,
    ``x_mean_``/``x_scale_``/``y_mean_``/``y_scale_``, ``n_epochs_``, ``best_epoch_``, ``loss_curve_``,
    ``validation_loss_curve_``.

    Example:
        >>> import numpy as np
        >>> X = np.linspace(-1, 1, 64)[:, None]
        >>> reg = MLPRegressor((16,), max_iter=200, validation_fraction=0.0).fit(X, 3 * X[:, 0])
        >>> reg.score(X, 3 * X[:, 0]) > 0.99
        True
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (64, 64),
        activation: str = "relu",
        *,
        loss: str = "mse",
        huber_delta: float = 1.0,
        learning_rate: float = 1e-2,
        weight_decay: float = 0.0,
        max_iter: int = 300,
        batch_size: int | None = None,
        minibatch: str = "weighted",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 20,
        standardize: bool = True,
        random_state: int = 0,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            max_iter=max_iter,
            batch_size=batch_size,
            minibatch=minibatch,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            standardize=standardize,
            random_state=random_state,
        )
        self.loss = loss
        self.huber_delta = huber_delta

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "MLPRegressor":
        """Fit on ``X`` (n, d) and ``y`` (n,) or (n, k), minimising the ``sample_weight``-weighted loss."""
        if self.loss not in ("mse", "mae", "huber"):
            raise ValueError(f"unknown loss {self.loss!r}; choose 'mse', 'mae' or 'huber'")
        Xa = self._prepare_X(X, fitting=True)
        try:
            ya = np.asarray(y, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise TypeError(f"y must be numeric for a regressor: {e}") from None
        if ya.shape[:1] != (Xa.shape[0],) or ya.ndim > 2:
            raise ValueError(f"y must have shape ({Xa.shape[0]},) or ({Xa.shape[0]}, k); got {ya.shape}")
        if not np.all(np.isfinite(ya)):
            raise ValueError("y has NaN or infinite values; impute or drop those rows")
        if Xa.shape[0] < 2:
            raise ValueError(f"need at least 2 rows to fit; got {Xa.shape[0]}")
        w = check_sample_weight(sample_weight, Xa.shape[0])
        self._y_ndim = ya.ndim
        y2 = ya.reshape(ya.shape[0], -1)
        self._set_x_stats(Xa, w)
        if self.standardize:
            self.y_mean_, self.y_scale_ = _weighted_moments(y2, w)
        else:
            self.y_mean_, self.y_scale_ = np.zeros(y2.shape[1], np.float32), np.ones(y2.shape[1], np.float32)
        Xs = (Xa - self.x_mean_) / self.x_scale_
        ys = (y2 - self.y_mean_) / self.y_scale_
        self._fit_arrays(Xs, ys, w, y2.shape[1], self.loss, huber_delta=float(self.huber_delta))
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predictions of shape (n,) (or (n, k) for multi-output targets)."""
        check_is_fitted(self, "model_")
        out = np.asarray(_forward(self.model_, self._standardised(self._prepare_X(X, fitting=False))))
        out = out * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._y_ndim == 1 else out


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Equinox MLP classifier trained with AdamW on a weighted softmax cross-entropy.

    Takes the same arguments as :class:`MLPRegressor` except ``loss`` (always cross-entropy);
    only the inputs are standardised. Labels may be any sortable values; ``classes_`` holds them.

    Example:
        >>> import numpy as np
        >>> X = np.r_[np.full((20, 1), -1.0), np.full((20, 1), 1.0)]
        >>> y = np.r_[["a"] * 20, ["b"] * 20]
        >>> clf = MLPClassifier((8,), max_iter=100, validation_fraction=0.0).fit(X, y)
        >>> clf.predict([[-1.0], [1.0]]).tolist()
        ['a', 'b']
    """

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "MLPClassifier":
        """Fit on ``X`` (n, d) and labels ``y`` (n,), minimising the weighted cross-entropy."""
        Xa = self._prepare_X(X, fitting=True)
        ya = np.asarray(y)
        if ya.shape != (Xa.shape[0],):
            raise ValueError(f"y must have shape ({Xa.shape[0]},), one label per row; got {ya.shape}")
        if ya.dtype.kind == "f" and not np.all(np.isfinite(ya)):
            raise ValueError("y has NaN labels; drop those rows")
        self.classes_, labels = np.unique(ya, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"need at least 2 classes to fit a classifier; y has only {self.classes_.tolist()}")
        w = check_sample_weight(sample_weight, Xa.shape[0])
        self._set_x_stats(Xa, w)
        Xs = (Xa - self.x_mean_) / self.x_scale_
        self._fit_arrays(Xs, labels.astype(np.int32), w, self.classes_.size, "cross_entropy")
        return self

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities of shape (n, n_classes), columns ordered as ``classes_``."""
        check_is_fitted(self, "model_")
        logits = _forward(self.model_, self._standardised(self._prepare_X(X, fitting=False)))
        return np.asarray(jax.nn.softmax(logits, axis=1), dtype=np.float64)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class label for each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
