"""The marketing mix model: graph, augmentation, fits with and without it, KPIs and budget."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping

import networkx as nx
import numpy as np
import pandas as pd

from .._graph import CausalGraph, as_graph
from ._budget import BudgetResult, allocate_gradient, allocate_search, fit_hill_curve
from ._config import MMMConfig
from ._data import feature_table, validate_weekly
from ._kpis import MMMResults, ResponseModel, compare_with_truth, summarize
from ._transforms import fit_geometric_decay

__all__ = ["MarketingMixModel", "make_regressor"]

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


@dataclasses.dataclass(frozen=True)
class _Structure:
    target_inputs: tuple
    mediator_inputs: dict


class MarketingMixModel:
    """A causal marketing mix model fitted on observed plus augmented weeks.

    ``fit`` checks the weekly table, adstocks the spends (decays given or fitted), takes the
    graph (given, or learned with :func:`causalda_jax.discovery.discover` and the built-in
    expert knowledge), augments the feature table (``"sample"``: ancestral sampling by
    default; ``"augment"``: the weighted full enumeration), and fits the target model and
    one model per mediator twice: on observed + augmented rows (variant ``"augmented"``)
    and on the observed rows only (variant ``"observed"``), plus ``bootstrap`` refits of
    each with Bayesian-bootstrap weights on the weeks and a new augmentation draw, plus
    ``augmentation_draws`` refits of the augmented variant that change the draw only. KPIs
    are then computed on the observed weeks only (see :func:`summarize`).

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
        say = progress or (lambda msg: None)
        self.weekly_ = validate_weekly(data, cfg)
        self.dates_ = self.weekly_[cfg.date]
        self.spend_ = self.weekly_[list(cfg.channels)].to_numpy(np.float64)
        self.decays_ = self._decays()
        say("adstock decays: " + ", ".join(f"{c} {d:.2f}" for c, d in self.decays_.items()))
        self.features_ = feature_table(self.weekly_, cfg, self.decays_)
        self._set_graph(graph if graph is not None else cfg.graph, say)
        self.structure_ = self._structure()
        variants = ["augmented", "observed"] if cfg.augmentation != "none" else ["observed"]
        self.models_: dict[str, ResponseModel] = {}
        self.boot_: dict[str, list[ResponseModel]] = {v: [] for v in variants}
        self.augmented_rows_ = self.augmented_weights_ = None
        for v in variants:
            table, weights, label = self._augment(self.features_, v, cfg.seed)
            if v == "augmented":
                self.augmentation_used_ = label
                self.augmented_rows_ = table.iloc[len(self.features_):].reset_index(drop=True)
                self.augmented_weights_ = weights[len(self.features_):]
                say(f"augmentation: {label}; {len(table) - len(self.features_)} augmented rows")
            self.models_[v] = self._fit_system(table, weights, cfg.seed)
        if cfg.augmentation == "none":
            self.augmentation_used_ = "none"
        n = len(self.features_)
        rng = np.random.default_rng(cfg.seed + 1)
        for b in range(cfg.bootstrap):
            # Bayesian bootstrap: random Dirichlet weights on the observed weeks instead of
            # resampled rows, so every week stays in the fit (trees fitted on ~63% distinct
            # rows are systematically different from the full fit, which biases the intervals).
            w_obs = rng.exponential(size=n)
            w_obs *= n / w_obs.sum()
            for v in variants:
                table, weights, _ = self._augment(self.features_, v, cfg.seed + 1000 + b)
                weights = weights.copy()
                weights[:n] *= w_obs
                self.boot_[v].append(self._fit_system(table, weights, cfg.seed + 1000 + b))
            if (b + 1) % 5 == 0 or b + 1 == cfg.bootstrap:
                say(f"bootstrap refits {b + 1}/{cfg.bootstrap}")
        # The augmentation draw alone: unit weights and the full fit's model seed, new draws.
        self.draws_: dict[str, list[ResponseModel]] = {}
        if "augmented" in variants and cfg.augmentation_draws > 0:
            self.draws_["augmented"] = [self.models_["augmented"]]
            for a in range(cfg.augmentation_draws):
                table, weights, _ = self._augment(self.features_, "augmented", cfg.seed + 2000 + a)
                self.draws_["augmented"].append(self._fit_system(table, weights, cfg.seed))
            say(f"augmentation draws {cfg.augmentation_draws}")
        return self

    def _decays(self) -> dict:
        cfg = self.config
        given = dict(cfg.adstock) if isinstance(cfg.adstock, Mapping) else {}
        todo = [c for c in cfg.channels if c not in given]
        if todo:
            controls = self.weekly_[list(cfg.controls)].to_numpy(np.float64)
            if cfg.seasonality:
                from ._simulate import seasonality_features

                controls = np.column_stack([controls, seasonality_features(self.dates_).to_numpy()])
            others = [c for c in cfg.channels if c in given]
            if others:
                from ._data import adstock_matrix

                fixed = adstock_matrix(self.weekly_[others].to_numpy(np.float64), [given[c] for c in others])
                controls = np.column_stack([controls, fixed])
            fitted = fit_geometric_decay(
                self.weekly_[todo].to_numpy(np.float64), self.weekly_[cfg.target].to_numpy(np.float64), controls
            )
            given.update(dict(zip(todo, map(float, fitted))))
        return {c: float(given[c]) for c in cfg.channels}

    def _set_graph(self, graph, say: Progress) -> None:
        cfg = self.config
        self.discovery_ = None
        if graph is not None:
            self.graph_ = as_graph(graph)
            self.graph_source_ = "given"
        else:
            knowledge = self._knowledge()
            try:
                from ..discovery import discover
            except ImportError:
                discover = None
            if discover is None:
                from ._knowledge import expert_graph

                warnings.warn("graph learning is unavailable (causalda_jax.discovery); using the expert graph")
                self.graph_ = expert_graph(cfg)
                self.graph_source_ = "expert"
            else:
                say(f"learning the graph ({cfg.discovery_method}) with expert knowledge")
                result = discover(self.features_, knowledge, method=cfg.discovery_method, **dict(cfg.discovery_params))
                self.discovery_ = result
                self.graph_ = as_graph(result.graph)
                self.graph_source_ = "learned"
        try:
            self.graph_.check_columns(self.features_.columns)
        except ValueError as e:
            raise ValueError(
                f"the graph must be over the model variables {list(self.features_.columns)} "
                f"(channels stand for their adstocked spends): {e}"
            ) from None
        say(f"graph ({self.graph_source_}): {len(self.graph_.directed)} directed, {len(self.graph_.bidirected)} bidirected edges")

    def _knowledge(self):
        cfg = self.config
        if cfg.knowledge is None:
            return None
        from ..discovery import Knowledge

        if isinstance(cfg.knowledge, str) and cfg.knowledge == "default":
            from ._knowledge import default_knowledge

            return default_knowledge(cfg)
        if isinstance(cfg.knowledge, Knowledge):
            return cfg.knowledge
        if isinstance(cfg.knowledge, Mapping):
            return Knowledge.from_dict(cfg.knowledge)
        return Knowledge.load(cfg.knowledge)

    def _structure(self) -> _Structure:
        cfg = self.config
        dag = self.graph_.to_networkx()
        below = nx.descendants(dag, cfg.target)
        target_inputs = tuple(c for c in self.features_.columns if c != cfg.target and c not in below)
        order = self.graph_.topological_order()
        mediator_inputs = {}
        for m in order:
            if m in cfg.mediators and self.graph_.parents(m):
                mediator_inputs[m] = tuple(self.graph_.parents(m))
        return _Structure(target_inputs, mediator_inputs)

    def _augment(self, features: pd.DataFrame, variant: str, seed: int):
        cfg = self.config
        n = len(features)
        ones = np.ones(n)
        if variant == "observed":
            return features, ones, "none"
        graph = self.graph_
        if cfg.augmentation == "sample":
            try:
                from .. import sample
            except ImportError:  # until the package root re-exports it
                from .._sample import sample

            extra = sample(features, graph, int(round(cfg.augmentation_ratio * n)), seed=seed,
                           estimator=cfg.augmentation_estimator)
            extra = extra[list(features.columns)]
            return pd.concat([features, extra], ignore_index=True), np.r_[ones, np.ones(len(extra))], "sample (ancestral sampling)"
        from .. import augment

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aug = augment(features, graph, threshold=cfg.threshold, bandwidth_scale=cfg.bandwidth_scale)
        if len(aug) == 0:
            return features, ones, "augment (empty at this threshold: observed rows only)"
        w = np.asarray(aug.weights, np.float64)
        w = w / w.sum() * cfg.augmentation_ratio * n
        return pd.concat([features, aug.data[list(features.columns)]], ignore_index=True), np.r_[ones, w], "augment (weighted enumeration)"

    def _fit_system(self, table: pd.DataFrame, weights: np.ndarray, seed: int) -> ResponseModel:
        cfg = self.config
        st = self.structure_
        media = set(cfg.channels) | set(cfg.mediators)
        predictors = {}
        jobs = [(cfg.target, st.target_inputs), *st.mediator_inputs.items()]
        for node, inputs in jobs:
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

    # ------------------------------------------------------------------ results
    @property
    def main_variant(self) -> str:
        return "augmented" if "augmented" in self.models_ else "observed"

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
        return res

    def _objective(self, variant: str):
        model = self.models_[variant]
        totals = self.spend_.sum(axis=0)

        def objective(alloc: np.ndarray) -> np.ndarray:
            alloc = np.atleast_2d(np.asarray(alloc, np.float64))
            mult = np.divide(alloc, totals, out=np.ones_like(alloc), where=totals > 0)
            return model.predict(self.spend_[None] * mult[:, None, :]).sum(axis=1)

        return objective

    def optimize_budget(
        self, total: float | None = None, bounds=None, method: str | None = None, truth=None
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
        variant = self.main_variant
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


def _as_predictor(reg):
    def predict(X: np.ndarray) -> np.ndarray:
        return np.asarray(reg.predict(np.asarray(X, np.float64)), np.float64).reshape(-1)

    predict.regressor = reg
    return predict
