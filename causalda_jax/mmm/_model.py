"""The marketing mix model: graph, augmentation, fits with and without it, KPIs and budget."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping
from typing import NamedTuple

import networkx as nx
import numpy as np
import pandas as pd

from .._augment import augment
from .._graph import CausalGraph, as_graph
from .._sample import sample
from ._budget import BudgetResult, allocate_gradient, allocate_search, fit_hill_curve
from ._config import MMMConfig
from ._data import adstock_matrix, feature_table, validate_weekly
from ._knowledge import default_knowledge
from ._lift import lift_check, lift_window
from ._kpis import MMMResults, ResponseModel, compare_with_truth, summarize
from ._simulate import seasonality_features
from ._transforms import fit_geometric_decay

__all__ = [
    "MarketingMixModel", "make_regressor", "Structure", "GraphChoice", "Augmentation", "Variants",
    "grid_decays", "choose_graph", "structure_of", "augment_rows",
]

Progress = Callable[[str], None]


def make_regressor(kind: str, *, seed: int = 0, params: Mapping | None = None, monotone: list[int] | None = None):
    """A fresh scikit-learn style regressor (``fit(X, y, sample_weight)``, ``predict(X)``).

    Args:
        kind: ``"xgboost"``, ``"mlp"`` (the Equinox :class:`~causalda_jax.models.MLPRegressor`)
            or ``"linear"`` (ridge).
        seed: model seed.
        params: keyword arguments overriding the defaults.
        monotone: per-input ``+1``/``0`` monotonicity (XGBoost only).

    Example:
        >>> reg = make_regressor("linear").fit(np.eye(3), np.arange(3.0))
        >>> reg.predict(np.eye(3)).shape
        (3,)
    """
    params = dict(params or {})
    if kind == "xgboost":
        import xgboost as xgb

        # Small trees, strong shrinkage: 100-300 weekly rows.
        defaults = dict(
            n_estimators=200, max_depth=3, learning_rate=0.07, subsample=0.8, min_child_weight=3.0,
            n_jobs=1, random_state=seed, tree_method="hist",
        )
        if monotone is not None and any(monotone):
            defaults["monotone_constraints"] = "(" + ",".join(str(int(m)) for m in monotone) + ")"
        return xgb.XGBRegressor(**{**defaults, **params})
    if kind == "linear":
        from sklearn.linear_model import Ridge

        return Ridge(**{"alpha": 1e-3, **params})
    if kind == "mlp":
        from ..models import MLPRegressor

        return MLPRegressor(**{"hidden_layer_sizes": (32, 32), "max_iter": 300, "random_state": seed, **params})
    raise ValueError(f"unknown model kind {kind!r}; choose 'xgboost', 'mlp' or 'linear'")


class Structure(NamedTuple):
    """Which columns each fitted equation reads.

    Attributes:
        target_inputs: every model variable that is not a descendant of the target.
        mediator_inputs: ``{mediator: its graph parents}`` in causal order.
    """

    target_inputs: tuple
    mediator_inputs: dict


class GraphChoice(NamedTuple):
    """The graph a fit uses and where it came from (``given`` or ``learned``)."""

    graph: CausalGraph
    source: str
    discovery: object | None


class Augmentation(NamedTuple):
    """Observed rows followed by augmented rows, their weights and a label of the method."""

    table: pd.DataFrame
    weights: np.ndarray
    label: str


class Variants(NamedTuple):
    """Fitted response models per variant (``augmented``, ``observed``) and their ensembles.

    Attributes:
        models: ``{variant: model}``, the point estimate.
        ensembles: ``{variant: [model, ...]}``: bootstrap refits or posterior draws.
        diagnostics: ``{variant: Diagnostics}`` (Bayesian model only).
        draws: ``{"augmented": [model, ...]}``: fits that change only the augmentation draw.
    """

    models: dict
    ensembles: dict
    diagnostics: dict
    draws: dict


class MarketingMixModel:
    """A causal marketing mix model fitted on observed plus augmented weeks.

    ``fit`` checks the weekly table, adstocks the spends (decays given or fitted), takes the
    graph (given, or learned with :func:`causalda_jax.discovery.discover` and the built-in
    expert knowledge), augments the feature table (``"sample"``: ancestral sampling by
    default; ``"augment"``: the weighted full enumeration), and fits the target model and
    one model per mediator twice: on observed + augmented rows (variant ``"augmented"``)
    and on the observed rows only (variant ``"observed"``). Intervals come from ``bootstrap``
    refits of each with Bayesian-bootstrap weights on the weeks and a new augmentation draw,
    plus ``augmentation_draws`` refits of the augmented variant that change the draw only
    (tree, MLP and linear models), or from the posterior (``model="bayes"``, see
    :func:`~causalda_jax.mmm.bayes_model`). KPIs are computed on the observed weeks only
    (see :func:`summarize`).

    The target model reads every model variable that is not a descendant of the target; a
    mediator model reads the mediator's parents in the graph, so a channel's effect
    through the mediator is counted when the graph has that path.

    Args:
        config: an :class:`MMMConfig`; keyword arguments build or override one.

    Example:
        >>> from causalda_jax.mmm import simulate
        >>> sim = simulate(weeks=60, channels=3, seed=0)
        >>> mmm = MarketingMixModel(target="sales", channels=sim.channels, controls=("price", "promo"),
        ...                         mediators=("branded_search",), graph=sim.graph.to_dict(), augmentation="none", bootstrap=0,
        ...                         model="linear")
        >>> res = mmm.fit(sim.data).kpis()
        >>> list(res.summary.columns[:4])
        ['variant', 'channel', 'spend', 'spend_share']
    """

    def __init__(self, config: MMMConfig | None = None, **overrides):
        if config is None:
            config = MMMConfig(**overrides)
        elif overrides:
            config = dataclasses.replace(config, **overrides)
        self.config = config

    # ------------------------------------------------------------------ fitting
    def fit(self, data: pd.DataFrame, graph=None, *, progress: Progress | None = None) -> "MarketingMixModel":
        """Fit every variant; ``graph`` overrides ``config.graph``. Returns ``self``."""
        cfg = self.config
        say = progress or _quiet
        self.weekly_ = validate_weekly(data, cfg)
        self.dates_ = self.weekly_[cfg.date]
        self.spend_ = self.weekly_[list(cfg.channels)].to_numpy(np.float64)
        for test in cfg.lift_tests:
            lift_window(self.dates_, test)
        self.decays_ = grid_decays(self.weekly_, cfg)
        say("adstock decays: " + ", ".join(f"{c} {d:.2f}" for c, d in self.decays_.items()))
        self.features_ = feature_table(self.weekly_, cfg, self.decays_)
        choice = choose_graph(self.features_, cfg, graph if graph is not None else cfg.graph, say)
        self.graph_, self.graph_source_, self.discovery_ = choice
        self.structure_ = structure_of(self.graph_, self.features_, cfg)
        augmented = None
        if cfg.augmentation != "none":
            augmented = augment_rows(self.features_, self.graph_, cfg, cfg.seed)
            say(f"augmentation: {augmented.label}; {len(augmented.table) - len(self.features_)} augmented rows")
        self.augmentation_used_ = "none" if augmented is None else augmented.label
        self.augmented_rows_ = None if augmented is None else augmented.table.iloc[len(self.features_):].reset_index(drop=True)
        self.augmented_weights_ = None if augmented is None else augmented.weights[len(self.features_):]
        if cfg.model == "bayes":
            fitted = self._fit_bayes(augmented, say)
            self.decays_ = dict(zip(cfg.channels, map(float, fitted.models[_main(fitted.models)].decays)))
        else:
            fitted = self._fit_refits(augmented, say)
        self.models_, self.boot_, self.diagnostics_, self.draws_ = fitted
        return self

    def _fit_refits(self, augmented: Augmentation | None, say: Progress) -> Variants:
        """Point fits of every variant and their bootstrap refits (tree, MLP and linear models)."""
        observed = Augmentation(self.features_, np.ones(len(self.features_)), "none")
        tables = {"observed": observed} if augmented is None else {"augmented": augmented, "observed": observed}
        models = {v: self._fit_system(a.table, a.weights, self.config.seed) for v, a in tables.items()}
        return Variants(models, self._bootstrap_refits(list(tables), say), {}, self._augmentation_draws(models, say))

    def _bootstrap_refits(self, variants: list, say: Progress) -> dict:
        """``bootstrap`` refits of each variant with Dirichlet weights on the observed weeks.

        Bayesian bootstrap: random Dirichlet weights on the observed weeks instead of
        resampled rows, so every week stays in the fit (trees fitted on ~63% distinct rows
        are systematically different from the full fit, which biases the intervals). Each
        refit re-augments with its own seed.
        """
        cfg = self.config
        n = len(self.features_)
        rng = np.random.default_rng(cfg.seed + 1)
        boots: dict[str, list] = {v: [] for v in variants}
        for b in range(cfg.bootstrap):
            w_obs = rng.exponential(size=n)
            w_obs *= n / w_obs.sum()
            for v in variants:
                seed = cfg.seed + 1000 + b
                if v == "observed":
                    table, weights = self.features_, np.ones(n)
                else:
                    table, weights, _ = augment_rows(self.features_, self.graph_, cfg, seed)
                weights = weights.copy()
                weights[:n] *= w_obs
                boots[v].append(self._fit_system(table, weights, seed))
            if (b + 1) % 5 == 0 or b + 1 == cfg.bootstrap:
                say(f"bootstrap refits {b + 1}/{cfg.bootstrap}")
        return boots

    def _augmentation_draws(self, models: dict, say: Progress) -> dict:
        """The augmentation draw alone: unit weights and the full fit's model seed, new draws."""
        cfg = self.config
        if "augmented" not in models or cfg.augmentation_draws <= 0:
            return {}
        fits = [models["augmented"]]
        for a in range(cfg.augmentation_draws):
            table, weights, _ = augment_rows(self.features_, self.graph_, cfg, cfg.seed + 2000 + a)
            fits.append(self._fit_system(table, weights, cfg.seed))
        say(f"augmentation draws {cfg.augmentation_draws}")
        return {"augmented": fits}

    def _fit_system(self, table: pd.DataFrame, weights: np.ndarray, seed: int) -> ResponseModel:
        cfg = self.config
        st = self.structure_
        media = set(cfg.channels) | set(cfg.mediators)
        predictors = {}
        for node, inputs in [(cfg.target, st.target_inputs), *st.mediator_inputs.items()]:
            monotone = [1 if (cfg.monotone and c in media) else 0 for c in inputs]
            reg = make_regressor(cfg.model, seed=seed, params=cfg.model_params, monotone=monotone)
            reg.fit(table[list(inputs)].to_numpy(np.float64), table[node].to_numpy(np.float64), sample_weight=weights)
            predictors[node] = _as_predictor(reg)
        return ResponseModel(
            features=self.features_,
            channels=tuple(cfg.channels),
            decays=np.array([self.decays_[c] for c in cfg.channels]),
            target=cfg.target,
            target_inputs=st.target_inputs,
            mediator_inputs=dict(st.mediator_inputs),
            predictors=predictors,
        )

    def _fit_bayes(self, augmented: Augmentation | None, say: Progress) -> Variants:
        """Posterior of the Bayesian model per variant; the ensembles are posterior draws."""
        import jax

        from ._bayes import fit_bayes, posterior_weights

        cfg = self.config
        n = len(self.features_)
        tables = {"observed": (self.features_, np.ones(n))}
        if augmented is not None:
            weights = posterior_weights(n, augmented.weights[n:], cfg.augmentation_ratio)
            tables = {"augmented": (augmented.table, weights), **tables}
        models, draws, diagnostics = {}, {}, {}
        for i, (v, (table, weights)) in enumerate(tables.items()):
            say(f"Bayesian model ({cfg.inference}), variant {v}: {len(table)} rows")
            model, diag = fit_bayes(
                self.features_, table, weights, self.spend_, self.dates_, self.structure_, self.decays_, cfg,
                key=jax.random.fold_in(jax.random.key(cfg.seed), i),
            )
            for problem in diag.warnings:
                warnings.warn(f"Bayesian model, variant {v}: {problem}", stacklevel=2)
            models[v], draws[v], diagnostics[v] = model, model.draw_models(), diag
        return Variants(models, draws, diagnostics, {})

    # ------------------------------------------------------------------ results
    @property
    def main_variant(self) -> str:
        return _main(self.models_)

    def kpis(self, truth=None) -> MMMResults:
        """KPIs of every variant on the observed weeks: points and intervals from the refits.

        Args:
            truth: a :class:`~causalda_jax.mmm.SimulatedMMM` (or anything with
                ``contributions`` and ``roi``) to add the error against the ground truth.
        """
        cfg = self.config
        res = summarize(
            self.models_,
            self.boot_,
            self.spend_,
            self.dates_,
            self.weekly_[cfg.target].to_numpy(np.float64),
            interval=cfg.interval,
            response_max=cfg.response_max,
            method=cfg.interval_method,
            draws=self.draws_,
        )
        if truth is not None:
            res.truth = compare_with_truth(res, truth.contributions, truth.roi)
        if self.diagnostics_:
            res.diagnostics = pd.concat([d.table.assign(variant=v) for v, d in self.diagnostics_.items()], ignore_index=True)
        if cfg.lift_tests:
            res.lift = self.lift_check()
        return res

    def lift_check(self) -> pd.DataFrame:
        """Every variant's predicted lift for each of the config's lift tests, against the measurement."""
        cfg = self.config
        return pd.concat(
            [lift_check(m, self.spend_, self.dates_, cfg.channels, cfg.lift_tests).assign(variant=v)
             for v, m in self.models_.items()],
            ignore_index=True,
        )

    def _objective(self, variant: str):
        model = self.models_[variant]
        totals = self.spend_.sum(axis=0)

        def objective(alloc: np.ndarray) -> np.ndarray:
            alloc = np.atleast_2d(np.asarray(alloc, np.float64))
            mult = np.divide(alloc, totals, out=np.ones_like(alloc), where=totals > 0)
            return model.predict(self.spend_[None] * mult[:, None, :]).sum(axis=1)

        return objective

    def optimize_budget(
        self, total: float | None = None, bounds=None, method: str | None = None, truth=None, variant: str | None = None
    ) -> BudgetResult:
        """Reallocate a total budget over the observed weeks to maximise predicted sales.

        Each channel keeps its weekly pattern and is scaled as a whole. ``"surrogate"`` fits a
        Hill curve to each channel's response curve and runs projected gradient ascent
        (optax) on their sum; ``"search"`` searches on the model itself. Either way the
        reported lift is the model's own prediction for the proposed allocation, and the
        other variant's (and the truth's, when given) prediction is added to ``checks``.

        Args:
            total: budget; default the current total spend.
            bounds: ``(low, high)`` multipliers or ``{channel: (low, high)}``; default from the config.
            method: ``"surrogate"`` or ``"search"``; default from the config.
            truth: a :class:`~causalda_jax.mmm.SimulatedMMM` to score the allocation exactly.
            variant: the fitted variant to optimise; default the main one.
        """
        import jax.numpy as jnp

        from ._transforms import hill

        cfg = self.config
        method = method or cfg.budget_method
        if method not in ("surrogate", "search"):
            raise ValueError(f"method must be 'surrogate' or 'search'; got {method!r}")
        channels = list(cfg.channels)
        current = self.spend_.sum(axis=0)
        total = float(current.sum()) if total is None else float(total)
        spec = cfg.bounds_for(channels) if bounds is None else dataclasses.replace(cfg, budget_bounds=bounds).bounds_for(channels)
        lower = np.array([spec[c][0] for c in channels]) * current
        upper = np.array([spec[c][1] for c in channels]) * current
        if lower.sum() > total or upper.sum() < total:
            raise ValueError(
                f"a total budget of {total:.6g} cannot be met within the bounds: they allow "
                f"{lower.sum():.6g} to {upper.sum():.6g}; widen 'budget_bounds' or change the total"
            )
        variant = variant or self.main_variant
        objective = self._objective(variant)
        surrogate_lift = None
        if method == "surrogate":
            from ._kpis import channel_kpis

            k = channel_kpis(self.models_[variant], self.spend_, np.linspace(0.0, cfg.response_max, 21))
            params = []
            for j in range(len(channels)):
                params.append(fit_hill_curve(k["multipliers"] * current[j], k["curve"][j]))
            top, k, s = (jnp.asarray(np.array(p), jnp.float32) for p in zip(*params))

            def response(x):
                return jnp.sum(top * hill(x, k, s))

            alloc = allocate_gradient(response, total, lower, upper, init=current)
            surrogate_lift = float(response(jnp.asarray(alloc, jnp.float32)) - response(jnp.asarray(current, jnp.float32)))
        else:
            alloc = allocate_search(objective, total, lower, upper, init=current, seed=cfg.seed)
        before, after = objective(np.stack([current, alloc]))
        checks = {}
        for v in self.models_:
            if v != variant:
                b, a = self._objective(v)(np.stack([current, alloc]))
                checks[v] = float(a - b)
        if truth is not None:
            mult = np.divide(alloc, current, out=np.ones_like(alloc), where=current > 0)
            checks["truth"] = float(truth.true_sales(self.spend_ * mult).sum() - truth.true_sales(self.spend_).sum())
        table = pd.DataFrame(
            {
                "channel": channels,
                "current_spend": current,
                "optimal_spend": alloc,
                "change": alloc - current,
                "change_percent": 100 * (alloc - current) / np.where(current > 0, current, np.nan),
                "lower": lower,
                "upper": upper,
            }
        )
        return BudgetResult(
            table=table,
            current_sales=float(before),
            optimal_sales=float(after),
            lift=float(after - before),
            method=method,
            surrogate_lift=surrogate_lift,
            checks=checks,
        )



def _quiet(msg: str) -> None:
    pass


def _main(models: Mapping) -> str:
    return "augmented" if "augmented" in models else "observed"


def grid_decays(weekly: pd.DataFrame, cfg: MMMConfig) -> dict:
    """Decays given in the config, the others fitted by :func:`fit_geometric_decay` on the observed weeks."""
    given = dict(cfg.adstock) if isinstance(cfg.adstock, Mapping) else {}
    todo = [c for c in cfg.channels if c not in given]
    if todo:
        controls = weekly[list(cfg.controls)].to_numpy(np.float64)
        if cfg.seasonality:
            controls = np.column_stack([controls, seasonality_features(weekly[cfg.date]).to_numpy()])
        others = [c for c in cfg.channels if c in given]
        if others:
            fixed = adstock_matrix(weekly[others].to_numpy(np.float64), [given[c] for c in others])
            controls = np.column_stack([controls, fixed])
        fitted = fit_geometric_decay(weekly[todo].to_numpy(np.float64), weekly[cfg.target].to_numpy(np.float64), controls)
        given.update(dict(zip(todo, map(float, fitted))))
    return {c: float(given[c]) for c in cfg.channels}


def choose_graph(features: pd.DataFrame, cfg: MMMConfig, graph, say: Progress = _quiet) -> GraphChoice:
    """The given graph, or one learned with :func:`~causalda_jax.discovery.discover` and the knowledge."""
    if graph is not None:
        choice = GraphChoice(as_graph(graph), "given", None)
    else:
        from ..discovery import discover

        say(f"learning the graph ({cfg.discovery_method}) with expert knowledge")
        result = discover(features, _knowledge(cfg), method=cfg.discovery_method, **dict(cfg.discovery_params))
        choice = GraphChoice(as_graph(result.graph), "learned", result)
    try:
        choice.graph.check_columns(features.columns)
    except ValueError as e:
        raise ValueError(
            f"the graph must be over the model variables {list(features.columns)} "
            f"(channels stand for their adstocked spends): {e}"
        ) from None
    say(f"graph ({choice.source}): {len(choice.graph.directed)} directed, {len(choice.graph.bidirected)} bidirected edges")
    return choice


def _knowledge(cfg: MMMConfig):
    from ..discovery import Knowledge

    if cfg.knowledge is None or isinstance(cfg.knowledge, Knowledge):
        return cfg.knowledge
    if isinstance(cfg.knowledge, str) and cfg.knowledge == "default":
        return default_knowledge(cfg)
    if isinstance(cfg.knowledge, Mapping):
        return Knowledge.from_dict(cfg.knowledge)
    return Knowledge.load(cfg.knowledge)


def structure_of(graph: CausalGraph, features: pd.DataFrame, cfg: MMMConfig) -> Structure:
    """Inputs of the target (its non-descendants) and of each mediator (its parents)."""
    below = nx.descendants(graph.to_networkx(), cfg.target)
    target_inputs = tuple(c for c in features.columns if c != cfg.target and c not in below)
    mediator_inputs = {
        m: tuple(graph.parents(m)) for m in graph.topological_order() if m in cfg.mediators and graph.parents(m)
    }
    return Structure(target_inputs, mediator_inputs)


def augment_rows(features: pd.DataFrame, graph: CausalGraph, cfg: MMMConfig, seed: int) -> Augmentation:
    """Observed rows plus ``augmentation_ratio`` times as much augmented mass.

    ``"sample"``: that many ancestral draws, weight 1 each; ``"augment"``: the weighted
    enumeration, its weights rescaled to sum to ``augmentation_ratio * n``.
    """
    n = len(features)
    ones = np.ones(n)
    cols = list(features.columns)
    if cfg.augmentation == "sample":
        extra = sample(features, graph, int(round(cfg.augmentation_ratio * n)), seed=seed,
                       estimator=cfg.augmentation_estimator)[cols]
        return Augmentation(pd.concat([features, extra], ignore_index=True), np.r_[ones, np.ones(len(extra))],
                            "sample (ancestral sampling)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aug = augment(features, graph, threshold=cfg.threshold, bandwidth_scale=cfg.bandwidth_scale)
    if len(aug) == 0:
        return Augmentation(features, ones, "augment (empty at this threshold: observed rows only)")
    w = np.asarray(aug.weights, np.float64)
    w = w / w.sum() * cfg.augmentation_ratio * n
    return Augmentation(pd.concat([features, aug.data[cols]], ignore_index=True), np.r_[ones, w],
                        "augment (weighted enumeration)")


def _as_predictor(reg):
    def predict(X: np.ndarray) -> np.ndarray:
        return np.asarray(reg.predict(np.asarray(X, np.float64)), np.float64).reshape(-1)

    predict.regressor = reg
    return predict
