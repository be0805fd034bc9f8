"""One run of the evaluation protocol: data, arms, similarity/diversity, downstream models."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._sample_weight import mix_weights
from ..metrics import (
    diversity,
    effective_sample_size,
    frac_augmented,
    frac_filtered,
    kl_divergence,
    mape,
    r2_score,
    wasserstein,
)
from ..scm import random_scm
from ._scenarios import Settings
from ._tuned import TunedXGBRegressor

__all__ = ["ARMS", "ESTIMATOR_ARMS", "Protocol", "run_once"]

ARMS = ("baseline", "augment", "sample", "regressor")
# Ancestral sampling with another conditional estimator for every variable
# (``sample(..., estimator=<name after "sample_">)``); run them with ``Protocol(arms=...)``.
ESTIMATOR_ARMS = ("sample_anm", "sample_anm_ridge", "sample_anm_mlp", "sample_mdn")

_GRID = {"n_estimators": [10, 50, 200], "reg_lambda": [1, 10, 100]}


@dataclass(frozen=True)
class Protocol:
    """How each run is evaluated (the guide's protocol unless stated).

    Attributes:
        test_size: share of the ``n`` rows held out for scoring (30 %).
        param_grid: XGBoost grid searched by ``cv``-fold cross-validation for every model.
        cv: folds of that search.
        alpha: share of the training weight given to generated rows in the ``augment`` and
            ``sample`` arms: original rows get ``(1 - alpha) / n_train`` each, augmented rows
            ``alpha * w`` (``w`` the augmentation's weights), sampled rows ``alpha / m`` each.
            All weights are then rescaled to sum to ``n_train``, so XGBoost's
            ``min_child_weight`` and ``reg_lambda`` act on the same scale as in the baseline.
        n_reference: fresh rows from the same SCM (never used for training) against which
            every arm's weighted training set is compared (KL, W1).
        max_targets: score only the first ``max_targets`` variables as targets (all if None).
        arms: which arms to run (of ``ARMS`` and ``ESTIMATOR_ARMS``).
        sample_factor: the ``sample`` arm draws ``sample_factor * n_train`` rows.
        kl_k: neighbours of the KL estimator.
        w1_projections: directions of the sliced W1 (sliced for every arm, so arms compare).
        selection_grid: the ``regressor`` arm's ``AugmentedRegressor(param_grid=...)``: its
            cross-validation chooses α among these values and 0 (θ is the scenario's).
    """

    test_size: float = 0.3
    param_grid: dict = field(default_factory=lambda: dict(_GRID))
    cv: int = 3
    alpha: float = 0.5
    n_reference: int = 1000
    max_targets: int | None = None
    arms: tuple = ARMS
    sample_factor: float = 1.0
    kl_k: int = 5
    w1_projections: int = 200
    selection_grid: dict = field(default_factory=lambda: {"aug_coeff": [0.25, 0.5, 0.75]})


def _fit_predict(X, y, w, X_test, protocol: Protocol, seed: int) -> tuple[np.ndarray, dict]:
    model = TunedXGBRegressor(protocol.param_grid, cv=protocol.cv, random_state=seed).fit(X, y, sample_weight=w)
    return model.predict(X_test), model.best_params_


def _mixture(train: pd.DataFrame, extra: pd.DataFrame, extra_w: np.ndarray, alpha: float):
    # Weights sum to n_train, so XGBoost's weight-denominated settings keep their meaning.
    return pd.concat([train, extra[train.columns]], ignore_index=True), mix_weights(len(train), extra_w, alpha)


def _weighted_sets(arm: str, train: pd.DataFrame, graph, settings: Settings, protocol: Protocol, seed: int):
    """The weighted training set of an arm and what is known about its generated part."""
    n = len(train)
    info: dict[str, Any] = {"status": "ok", "empty": False, "n_generated": 0}
    uniform = np.ones(n)  # every arm's weights sum to n_train (see _mixture)
    if arm == "baseline":
        return train, uniform, info, None
    if arm == "augment":
        from .._augment import augment

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aug = augment(
                train, graph, threshold=settings.threshold, kernel=settings.kernel, bandwidth=settings.bandwidth
            )
        info["seconds_generate"] = time.perf_counter() - t0
        info["n_generated"] = len(aug)
        info["mass"] = float(np.sum(aug.weights)) if len(aug) else 0.0
        if len(aug) == 0:
            info["empty"] = True
            return train, uniform, info, (aug.data, np.asarray(aug.weights), aug.source_rows)
        data, w = _mixture(train, aug.data, aug.weights, protocol.alpha)
        return data, w, info, (aug.data, np.asarray(aug.weights), aug.source_rows)
    if arm == "sample" or arm in ESTIMATOR_ARMS:
        from .._sample import sample

        m = max(1, int(round(protocol.sample_factor * n)))
        # Only the kernel sampler draws training rows; other estimators' rows are matched by value.
        how = {"return_indices": True} if arm == "sample" else {"estimator": arm.removeprefix("sample_")}
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = sample(train, graph, m, seed=seed, kernel=settings.kernel, bandwidth=settings.bandwidth, **how)
        drawn, source = out if arm == "sample" else (out, None)
        info["seconds_generate"] = time.perf_counter() - t0
        info["n_generated"] = len(drawn)
        w_drawn = np.full(len(drawn), 1.0 / len(drawn))
        data, w = _mixture(train, drawn, w_drawn, protocol.alpha)
        return data, w, info, (drawn, w_drawn, None if source is None else np.asarray(source))
    raise ValueError(f"unknown arm {arm!r}; choose from {ARMS + ESTIMATOR_ARMS}")


def _set_metrics(train, data, w, generated, reference, protocol: Protocol, seed: int) -> dict[str, float]:
    out = {
        "kl": kl_divergence(reference, data, q_weights=w, k=protocol.kl_k),
        "w1": wasserstein(reference, data, y_weights=w, method="sliced", n_projections=protocol.w1_projections, seed=seed),
        "diversity": diversity(train, data, weights=w),
        "ess": effective_sample_size(w),
        "n_train_rows": len(data),
    }
    if generated is None:
        out.update(frac_augmented=0.0, frac_filtered=0.0, ess_generated=np.nan)
    else:
        g_data, g_w, g_src = generated
        out["frac_augmented"] = frac_augmented(train, g_data, source_rows=g_src)
        out["frac_filtered"] = frac_filtered(train, g_data, source_rows=g_src)
        out["ess_generated"] = effective_sample_size(g_w)
    return out


def _targets(columns: Sequence, protocol: Protocol) -> list:
    cols = list(columns)
    return cols if protocol.max_targets is None else cols[: protocol.max_targets]


def run_once(settings: Settings, protocol: Protocol, seed: int) -> pd.DataFrame:
    """Run every arm of the protocol on one random SCM.

    Steps: draw ``n_samples + n_reference`` rows from :func:`causalda_jax.scm.random_scm`
    (the reference rows only serve similarity metrics); split the ``n_samples`` rows 70/30
    into train/test; build each arm's weighted training set from train only; compute KL
    (reference ‖ arm) and sliced W1 against the reference, diversity against train, the
    fractions of new and of dropped training rows and Kish's ESS; then for each target
    variable fit a cross-validated XGBoost on the arm's set (with its weights) and score
    MAPE and R² on test. The ``regressor`` arm is ``AugmentedRegressor`` wrapping the same
    cross-validated XGBoost, choosing α by its own cross-validation (α = 0 included); only its
    downstream metrics, generated rows and chosen α are recorded.

    Returns:
        A tidy frame, one row per (arm, target), with the run-level metrics repeated.
    """
    rng = np.random.default_rng(seed)
    full, graph = random_scm(
        settings.n_nodes, settings.n_samples + protocol.n_reference, seed=seed, **settings.scm_kwargs()
    )
    data, reference = full.iloc[: settings.n_samples], full.iloc[settings.n_samples :].reset_index(drop=True)
    order = rng.permutation(len(data))
    n_test = int(round(protocol.test_size * len(data)))
    test = data.iloc[order[:n_test]].reset_index(drop=True)
    train = data.iloc[order[n_test:]].reset_index(drop=True)
    targets = _targets(data.columns, protocol)
    rows = []
    # An empty augmentation leaves the baseline's training set: its fits are reused.
    baseline_fits: dict = {}
    for arm in protocol.arms:
        base = {"arm": arm, "seed": seed, "n_train": len(train), "n_test": len(test), "n_edges": graph.number_of_edges()}
        try:
            if arm == "regressor":
                rows += _regressor_rows(base, train, test, graph, settings, targets, protocol, seed)
                continue
            t0 = time.perf_counter()
            X_arm, w, info, generated = _weighted_sets(arm, train, graph, settings, protocol, seed)
            metrics = _set_metrics(train, X_arm, w, generated, reference, protocol, seed)
            for target in targets:
                if arm == "baseline" or info["empty"]:
                    if target not in baseline_fits:
                        X = X_arm.drop(columns=[target])
                        baseline_fits[target] = _fit_predict(X, X_arm[target], w, test.drop(columns=[target]), protocol, seed)
                    pred, params = baseline_fits[target]
                else:
                    X = X_arm.drop(columns=[target])
                    pred, params = _fit_predict(X, X_arm[target], w, test.drop(columns=[target]), protocol, seed)
                rows.append(
                    {
                        **base,
                        **info,
                        **metrics,
                        "target": target,
                        "r2": r2_score(test[target], pred),
                        "mape": mape(test[target], pred),
                        "params": repr(params),
                        "seconds": time.perf_counter() - t0,
                    }
                )
        except Exception as err:  # a failing arm is recorded, the run goes on
            rows.append({**base, "status": f"error: {type(err).__name__}: {err}"[:300]})
    return pd.DataFrame(rows)


def _regressor_rows(base, train, test, graph, settings: Settings, targets, protocol: Protocol, seed: int) -> list[dict]:
    from .._augmented_regressor import AugmentedRegressor as regressor

    rows = []
    for target in targets:
        t0 = time.perf_counter()
        # The inner search picks XGBoost's hyperparameters on every (weighted) training set;
        # AugmentedRegressor's own CV picks α in selection_grid (α = 0, no augmentation, included).
        inner = TunedXGBRegressor(protocol.param_grid, cv=protocol.cv, random_state=seed)
        model = regressor(
            inner,
            graph,
            target,
            method="augment",
            aug_coeff=protocol.alpha,
            threshold=settings.threshold,
            param_grid=dict(protocol.selection_grid),
            cv=protocol.cv,
            random_state=seed,
            augment_kwargs={"kernel": settings.kernel, "bandwidth": settings.bandwidth},
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(train.drop(columns=[target]), train[target])
        pred = model.predict(test.drop(columns=[target]))
        chosen = dict(getattr(model, "best_params_", {}) or {})
        best_inner = getattr(getattr(model, "estimator_", None), "best_params_", None)
        rows.append(
            {
                **base,
                "status": "ok",
                "target": target,
                "n_generated": getattr(model, "n_augmented_", np.nan),
                "empty": getattr(model, "n_augmented_", 0) == 0,
                "aug_coeff": chosen.get("aug_coeff", np.nan),
                "r2": r2_score(test[target], pred),
                "mape": mape(test[target], pred),
                "params": repr({**chosen, **(best_inner or {})}),
                "seconds": time.perf_counter() - t0,
            }
        )
    return rows
