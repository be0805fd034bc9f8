"""Ancestral sampling with a conditional estimator per variable.

Variables are drawn in topological order. For each variable ``v`` an estimator is fitted on the
training data, (values of the Markov pillow of ``v`` → values of ``v``), then every sample's
value of ``v`` is drawn from the fitted conditional given the sample's already-drawn pillow
values. Bidirected edges enter through the Markov pillow, as in the kernel sampler. Categorical
pillow columns are one-hot encoded for every estimator but the kernel, and the inputs are padded
with zero columns to a power-of-two width so that variables with similar pillows share compiled
programs.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import jax
import numpy as np
import pandas as pd

from .._custom_types import BandwidthSpec
from .._graph import GraphLike, as_graph
from .._plan import Plan, sampling_plan
from ._anm import ANM
from ._base import TARGET_KINDS
from ._classifier import Classifier
from ._kernel import FittedKernel, Kernel
from ._mdn import MDN

__all__ = ["ESTIMATORS", "EstimatorSpec", "make_estimator", "only_kernel", "sample_with_estimators"]

# Names accepted by ``sample(..., estimator=...)``; "anm" is "anm_xgboost".
ESTIMATORS = ("kernel", "anm", "anm_ridge", "anm_mlp", "anm_xgboost", "mdn", "classifier")

EstimatorSpec = Any  # a name in ESTIMATORS, an estimator object, or a {node: name or object} mapping


def make_estimator(name: str) -> Any:
    """The estimator behind a name in ``ESTIMATORS`` (default settings).

    Example:
        >>> make_estimator("anm_ridge")
        ANM('ridge', heteroskedastic=False)
    """
    if name == "kernel":
        return Kernel()
    if name in ("anm", "anm_xgboost"):
        return ANM("xgboost")
    if name == "anm_ridge":
        return ANM("ridge")
    if name == "anm_mlp":
        return ANM("mlp")
    if name == "mdn":
        return MDN()
    if name == "classifier":
        return Classifier()
    raise ValueError(f"unknown estimator {name!r}; choose one of {list(ESTIMATORS)} or pass an estimator object")


def _checked(value: Any, where: str) -> Any:
    """A name or estimator object, validated; ``where`` says which variable it was given for."""
    if isinstance(value, str):
        if value not in ESTIMATORS:
            raise ValueError(
                f"unknown estimator {value!r}{where}; choose one of {list(ESTIMATORS)} or pass an estimator object"
            )
        return value
    if not (callable(getattr(value, "fit", None)) and getattr(value, "target_kind", None) in TARGET_KINDS):
        raise TypeError(
            f"estimator{where} must be a name in {list(ESTIMATORS)} or an object with fit(X, y, weight, *, key) and "
            f"target_kind; got {type(value).__name__}"
        )
    return value


def _per_node(estimator: EstimatorSpec, nodes: tuple) -> tuple[dict, Any]:
    """``({node: spec given for it}, the spec for every other node)``, validated against the graph."""
    if isinstance(estimator, Mapping):
        unknown = [str(k) for k in estimator if k not in nodes]
        if unknown:
            raise ValueError(
                f"estimator= names {unknown}, which are not nodes of the graph {[str(v) for v in nodes]}; "
                "give estimators only for the graph's variables"
            )
        return {k: _checked(v, f" for {k!r}") for k, v in estimator.items()}, "kernel"
    return {}, _checked(estimator, "")


def only_kernel(estimator: EstimatorSpec, graph: GraphLike) -> bool:
    """Check ``estimator`` against ``graph``; True when every variable uses the kernel conditional.

    Raises:
        ValueError: an unknown estimator name, or a mapping that names a node not in the graph.

    Example:
        >>> only_kernel({"y": "kernel"}, {"directed": [["x", "y"]]}), only_kernel("mdn", {"directed": [["x", "y"]]})
        (True, False)
    """
    given, rest = _per_node(estimator, as_graph(graph).nodes)
    return all(isinstance(v, str) and v == "kernel" for v in (*given.values(), rest))


def _kind(spec: Any) -> str:
    return make_estimator(spec).target_kind if isinstance(spec, str) else spec.target_kind


def _resolve(estimator: EstimatorSpec, plan: Plan) -> list:
    """One estimator object per column (data order); kernel columns use the plan's bandwidths."""
    table = plan.table
    given, rest = _per_node(estimator, plan.graph.nodes)
    pillow_of = dict(zip(plan.order, plan.pillows))
    out = []
    for j, col in enumerate(table.columns):
        categorical = bool(table.is_categorical[j])
        spec = given.get(col, rest)
        kind = _kind(spec)
        if col not in given and categorical and kind == "continuous":
            spec, kind = "classifier", "categorical"  # a global continuous choice leaves categoricals to a classifier
        if categorical and kind == "continuous":
            raise ValueError(
                f"column {col!r} is categorical but estimator {spec!r} models continuous values; use 'classifier' "
                "or 'kernel' for it"
            )
        if not categorical and kind == "categorical":
            hint = "give it per column in a dict" if col not in given else f"declare it with categorical=[{col!r}]"
            raise ValueError(
                f"column {col!r} is continuous but estimator {spec!r} models categorical codes; use 'anm', 'mdn' or "
                f"'kernel' for it, or {hint}"
            )
        if isinstance(spec, str) and spec == "kernel":
            pillow = list(pillow_of[j])
            spec = Kernel(plan.kernel, bandwidth=plan.h[pillow], categorical=table.is_categorical[pillow])
        elif isinstance(spec, str):
            spec = make_estimator(spec)
        out.append(spec)
    return out


def _encoder(table, pillow: tuple[int, ...]):
    """A function of ``(m, d)`` values to the estimator inputs of this pillow: one-hot, zero-padded."""
    n_categories = {j: int(table.values[:, j].max()) + 1 for j in pillow if table.is_categorical[j]}
    width = sum(n_categories.get(j, 1) for j in pillow)
    padded = 1 << max(0, width - 1).bit_length() if width else 1

    def encode(values: np.ndarray) -> np.ndarray:
        out = np.zeros((values.shape[0], padded), np.float32)
        at = 0
        for j in pillow:
            if j in n_categories:
                k = n_categories[j]
                out[:, at : at + k] = values[:, j, None] == np.arange(k)
                at += k
            else:
                out[:, at] = values[:, j]
                at += 1
        return out

    return encode


def _frame(data: pd.DataFrame, plan: Plan, values: np.ndarray, kernel_rows: dict) -> pd.DataFrame:
    """The samples with the training columns, order, dtypes and categories (estimator draws as float64)."""
    columns = {}
    for j, col in enumerate(data.columns):
        if j in kernel_rows:
            columns[col] = data[col].take(kernel_rows[j]).reset_index(drop=True)
        elif plan.table.is_categorical[j]:
            # A code's value is looked up at the first training row that holds it.
            codes = plan.table.values[:, j].astype(np.int64)
            first = np.zeros(codes.max() + 1, np.int64)
            first[codes[::-1]] = np.arange(len(codes))[::-1]
            columns[col] = data[col].take(first[values[:, j].astype(np.int64)]).reset_index(drop=True)
        else:
            columns[col] = pd.Series(values[:, j], dtype=np.float64)
    return pd.DataFrame(columns, columns=data.columns)


def sample_with_estimators(
    data: pd.DataFrame,
    graph: GraphLike,
    n_samples: int,
    estimator: EstimatorSpec,
    *,
    key: jax.Array,
    kernel: str = "gaussian",
    bandwidth: BandwidthSpec = "normal_reference",
    bandwidth_scale: float = 1.0,
    categorical: Iterable[Hashable] | None = None,
    smoothing: float = 0.0,
    neighbors: int | None = None,
    return_indices: bool = False,
) -> pd.DataFrame:
    """Ancestral sampling where each variable is drawn from its fitted conditional estimator.

    The engine of :func:`causalda_jax.sample` when ``estimator=`` puts some variable on an
    estimator other than the kernel. Kernel variables draw training values with the plan's
    bandwidths; continuous draws of other estimators are float64 columns.

    Raises:
        ValueError: bad ``estimator`` (unknown name, node not in the graph, continuous estimator
            for a categorical column or the reverse), or an option that only the kernel sampler has.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or int(n_samples) < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    for name, value, default in (("smoothing", smoothing, 0.0), ("neighbors", neighbors, None),
                                 ("return_indices", return_indices, False)):
        if value != default:
            raise ValueError(
                f"{name}={value!r} applies to the kernel sampler only; with estimator={estimator!r} leave it at "
                f"{default!r}"
            )
    plan = sampling_plan(data, graph, kernel=kernel, bandwidth=bandwidth, bandwidth_scale=bandwidth_scale,
                         categorical=categorical)
    estimators = _resolve(estimator, plan)
    table = plan.table
    n_samples = int(n_samples)
    values = np.zeros((n_samples, table.d), np.float64)
    kernel_rows: dict[int, np.ndarray] = {}
    fit_key, draw_key = jax.random.split(key)
    for j, pillow in zip(plan.order, plan.pillows):
        est = estimators[j]
        if getattr(est, "raw_inputs", False):
            x_train, x_new = table.values[:, list(pillow)], values[:, list(pillow)]
        else:
            encode = _encoder(table, pillow)
            x_train, x_new = encode(table.values), encode(values)
        try:
            fitted = est.fit(x_train, table.values[:, j], key=jax.random.fold_in(fit_key, j))
            k = jax.random.fold_in(draw_key, j)
            if isinstance(fitted, FittedKernel):
                kernel_rows[j] = fitted.rows(x_new, key=k)
                values[:, j] = table.values[kernel_rows[j], j]
            else:
                values[:, j] = np.asarray(fitted.sample(x_new, key=k), np.float64)
        except ValueError as err:
            raise type(err)(f"variable {table.columns[j]!r} ({est!r}): {err}") from err
    return _frame(data, plan, values, kernel_rows)
