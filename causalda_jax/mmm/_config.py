"""Configuration of a marketing mix run, read from JSON or YAML."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, Union

import numpy as np

from .._spec_file import read_spec
from ._intervals import INTERVAL_METHODS

__all__ = ["MMMConfig", "load_config"]

_AUGMENTATION_METHODS = ("sample", "augment", "none")
_MODEL_KINDS = ("xgboost", "mlp", "linear", "bayes")
_INFERENCE = ("map", "nuts")
_BUDGET_METHODS = ("surrogate", "search")


@dataclasses.dataclass(frozen=True)
class MMMConfig:
    """Everything a marketing mix run needs besides the data.

    Attributes:
        target: outcome column (weekly sales or revenue).
        channels: media spend columns, one per channel.
        date: date column (one row per week).
        controls: other drivers (price, promotions, distribution, holidays ...).
        mediators: variables that channels move and that move the target (branded search
            volume, for example); the counterfactuals propagate through them.
        seasonality: add ``trend``, ``season_sin`` and ``season_cos`` built from the dates.
        adstock: ``"fit"`` (one geometric decay per channel fitted on the observed weeks) or a
            mapping ``{channel: decay}``; channels missing from the mapping are fitted.
        graph: a graph (path to JSON or a dict) over the model variables; learned with
            :func:`causalda_jax.discovery.discover` and the knowledge when absent.
        knowledge: ``"default"`` (the built-in marketing tiers), ``None``, a path, or a dict
            with ``required``, ``forbidden`` and ``tiers``.
        discovery_method: method passed to ``discover``.
        discovery_params: other ``discover`` arguments (default: standardised columns, 10
            bootstrap fits, edge threshold 0.15: for augmentation a spurious edge costs less
            than a missing one).
        augmentation: ``"sample"`` (ancestral sampling, the default: the full enumeration is
            empty for graphs with several root variables once n > 1/threshold),
            ``"augment"`` (weighted full enumeration) or ``"none"``.
        augmentation_ratio: augmented rows per observed row.
        augmentation_estimator: the sampler's conditional estimator(s) with
            ``augmentation="sample"``: ``None`` (the kernel), ``"anm"``, ``"mdn"``, ... or a dict
            per variable (see :func:`causalda_jax.sample`).
        threshold, bandwidth_scale: passed to the augmentation.
        model: ``"xgboost"`` (default), ``"mlp"`` (the Equinox regressor), ``"linear"`` (ridge)
            or ``"bayes"`` (the Bayesian structural model of :mod:`causalda_jax.mmm`, with
            adstock and saturation in the likelihood; intervals are posterior credible
            intervals and ``bootstrap`` is not used).
        model_params: keyword arguments for the model.
        monotone: constrain XGBoost to be non-decreasing in channels and mediators.
        inference: Bayesian model only: ``"map"`` (Laplace approximation at the posterior
            mode, seconds) or ``"nuts"`` (NUTS, chains vectorised).
        draws: Bayesian model only: posterior draws (per chain for NUTS).
        warmup: NUTS adaptation steps per chain.
        chains: NUTS chains.
        priors: Bayesian model only: overrides of the default prior scales
            (:class:`~causalda_jax.mmm.BayesPriors` fields, e.g. ``{"effect": 3.0}``).
        roi_prior: Bayesian model only: ``{channel: [mean, sd]}``, a LogNormal prior on the
            ROI of the channel's direct effect (its effect size is derived from it).
        lift_tests: experiments, rows of ``channel, start, end, lift, sd`` (incremental target
            summed over the window, mediated effects included). They enter the Bayesian
            model's likelihood; for the other models they are a check (``lift_check``).
        bootstrap: refits for the points and intervals (0: points from the full fit, no
            intervals). Each refit has Bayesian-bootstrap weights on the weeks and a new
            augmentation draw.
        interval: central coverage of the intervals (bootstrap or posterior).
        interval_method: ``"percentile"`` (point: median of the refits; interval: their
            percentiles) or ``"basic"`` (the same of the refits reflected about the full fit).
        augmentation_draws: extra fits of the augmented variant that change only the
            augmentation draw, for ``roi_aug_sd`` (0 disables them).
        budget_total: total budget over the observed weeks; ``None`` keeps the current total.
        budget_bounds: ``(low, high)`` multipliers of each channel's current spend, or a
            mapping ``{channel: [low, high]}``.
        budget_method: ``"surrogate"`` (optax on smooth response curves, then checked with the
            model) or ``"search"`` (derivative-free search on the model).
        response_max: largest spend multiplier in the response curves.
        seed: seed for augmentation, model fits and bootstrap.
        roi_range: plausible ROI per channel, ``{channel: [low, high]}``; the report flags an
            estimate outside it. Channels left out are not checked.
        kpi_column: a second outcome column in the data (conversions, leads) next to the
            target; the report then adds cost per acquisition and conversion checks.
        holdout_weeks: the report refits every variant without the last ``holdout_weeks``
            weeks and scores it on them (0 turns this off; skipped with a note when too few
            weeks would remain).
        budget_confidence: probability over the bootstrap refits that the risk-aware allocation
            must beat the current one with to be recommended; below it the report says "no
            reliable gain".

    Example:
        >>> cfg = MMMConfig.from_dict({"target": "sales", "channels": ["tv", "radio"]})
        >>> cfg.augmentation, cfg.model
        ('sample', 'xgboost')
    """

    target: str
    channels: tuple
    date: str = "date"
    controls: tuple = ()
    mediators: tuple = ()
    seasonality: bool = True
    adstock: Any = "fit"
    graph: Any = None
    knowledge: Any = "default"
    discovery_method: str = "dagma"
    discovery_params: Mapping = dataclasses.field(
        default_factory=lambda: {"standardize": True, "n_bootstrap": 10, "threshold": 0.15}
    )
    augmentation: str = "sample"
    augmentation_ratio: float = 2.0
    augmentation_estimator: Any = None
    threshold: float = 1e-2
    bandwidth_scale: float = 1.0
    model: str = "xgboost"
    model_params: Mapping = dataclasses.field(default_factory=dict)
    monotone: bool = True
    # Bayesian model and experiments (model: "bayes"; lift_tests are checked for every model).
    inference: str = "map"
    draws: int = 500
    warmup: int = 500
    chains: int = 4
    priors: Mapping = dataclasses.field(default_factory=dict)
    roi_prior: Mapping = dataclasses.field(default_factory=dict)
    lift_tests: tuple = ()
    bootstrap: int = 20
    interval: float = 0.9
    interval_method: str = "percentile"
    augmentation_draws: int = 5
    budget_total: float | None = None
    budget_bounds: Any = (0.5, 1.5)
    budget_method: str = "surrogate"
    response_max: float = 2.0
    seed: int = 0
    # The evidence around the estimates: coherence checks, holdout, risk-aware budget.
    roi_range: Mapping | None = None
    kpi_column: str | None = None
    holdout_weeks: int = 13
    budget_confidence: float = 0.8

    def __post_init__(self):
        for name in ("channels", "controls", "mediators"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value or ()))
        if not isinstance(self.target, str) or not self.target:
            raise ValueError("config 'target' must be the name of the outcome column")
        if not self.channels:
            raise ValueError("config 'channels' must list at least one spend column")
        named = [self.date, self.target, *self.channels, *self.controls, *self.mediators]
        dupes = sorted({n for n in named if named.count(n) > 1})
        if dupes:
            raise ValueError(f"columns {dupes} have more than one role in the config; give each column one role")
        reserved = {"trend", "season_sin", "season_cos"} & set(named) if self.seasonality else set()
        if reserved:
            raise ValueError(
                f"columns {sorted(reserved)} clash with the seasonality features; rename them or set seasonality: false"
            )
        _choice("augmentation", self.augmentation, _AUGMENTATION_METHODS)
        _choice("model", self.model, _MODEL_KINDS)
        _choice("budget_method", self.budget_method, _BUDGET_METHODS)
        if self.augmentation_ratio <= 0:
            raise ValueError(f"augmentation_ratio must be positive; got {self.augmentation_ratio}")
        if int(self.bootstrap) < 0 or int(self.bootstrap) != self.bootstrap:
            raise ValueError(f"bootstrap must be a non-negative integer; got {self.bootstrap}")
        _choice("interval_method", self.interval_method, INTERVAL_METHODS)
        if int(self.augmentation_draws) < 0 or int(self.augmentation_draws) != self.augmentation_draws:
            raise ValueError(f"augmentation_draws must be a non-negative integer; got {self.augmentation_draws}")
        if not 0 < self.interval < 1:
            raise ValueError(f"interval must be in (0, 1); got {self.interval}")
        if self.response_max <= 1:
            raise ValueError(f"response_max must exceed 1 (current spend); got {self.response_max}")
        if isinstance(self.adstock, Mapping):
            bad = {k: v for k, v in self.adstock.items() if not 0 <= float(v) < 1}
            unknown = sorted(set(self.adstock) - set(self.channels))
            if unknown:
                raise ValueError(f"adstock given for {unknown}, which are not channels {list(self.channels)}")
            if bad:
                raise ValueError(f"adstock decays must be in [0, 1); got {bad}")
        elif self.adstock != "fit":
            raise ValueError(f"adstock must be 'fit' or a mapping {{channel: decay}}; got {self.adstock!r}")
        self.bounds_for(self.channels)
        self._check_coherence_fields(named)
        self._check_bayes()

    def _check_coherence_fields(self, named: list) -> None:
        h = self.holdout_weeks
        if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 0:
            raise ValueError(f"holdout_weeks must be a non-negative integer; got {h!r}")
        c = self.budget_confidence
        if isinstance(c, bool) or not isinstance(c, (int, float, np.floating)) or not 0 < c < 1:
            raise ValueError(f"budget_confidence must be in (0, 1); got {self.budget_confidence}")
        if self.roi_range is not None:
            if not isinstance(self.roi_range, Mapping):
                raise ValueError(f"roi_range must be a mapping {{channel: [low, high]}}; got {self.roi_range!r}")
            unknown = sorted(set(self.roi_range) - set(self.channels))
            if unknown:
                raise ValueError(f"roi_range given for {unknown}, which are not channels {list(self.channels)}")
            clean = {}
            for c, b in self.roi_range.items():
                try:
                    low, high = (float(v) for v in b)
                except (TypeError, ValueError):
                    raise ValueError(f"roi_range for {c!r} must be [low, high]; got {b!r}") from None
                if not (np.isfinite(low) and np.isfinite(high) and low < high):
                    raise ValueError(f"roi_range for {c!r} must be [low, high] with low < high; got {list(b)}")
                clean[c] = (low, high)
            object.__setattr__(self, "roi_range", clean)
        if self.kpi_column is not None:
            if not isinstance(self.kpi_column, str) or not self.kpi_column:
                raise ValueError(f"kpi_column must be the name of a data column; got {self.kpi_column!r}")
            if self.kpi_column in named:
                raise ValueError(
                    f"kpi_column {self.kpi_column!r} already has another role in the config; "
                    "name a separate column (conversions, leads)"
                )

    def _check_bayes(self) -> None:
        from ._lift import parse_lift_tests

        _choice("inference", self.inference, _INFERENCE)
        for name in ("draws", "warmup", "chains"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        from ._bayes import BayesPriors

        known = {f.name for f in dataclasses.fields(BayesPriors)}
        unknown = sorted(set(self.priors) - known) if isinstance(self.priors, Mapping) else None
        if unknown is None or unknown:
            raise ValueError(f"priors must be a mapping with keys from {sorted(known)}; got {self.priors!r}")
        for name, value in self.priors.items():
            values = np.atleast_1d(np.asarray(value, dtype=float)) if not isinstance(value, str) else np.array([np.nan])
            if not (np.all(np.isfinite(values)) and np.all(values > 0)):
                raise ValueError(f"priors {name!r} must be positive; got {value!r}")
        if not isinstance(self.roi_prior, Mapping):
            raise ValueError(f"roi_prior must be a mapping {{channel: [mean, sd]}}; got {self.roi_prior!r}")
        for ch, spec in self.roi_prior.items():
            if ch not in self.channels:
                raise ValueError(f"roi_prior given for {ch!r}, which is not one of the channels {list(self.channels)}")
            try:
                mean, sd = (float(v) for v in spec)
            except (TypeError, ValueError):
                raise ValueError(f"roi_prior for {ch!r} must be [mean, sd]; got {spec!r}") from None
            if not (np.isfinite(mean) and mean > 0):
                raise ValueError(f"roi_prior for {ch!r}: the mean must be positive; got {mean}")
            if not (np.isfinite(sd) and sd > 0):
                raise ValueError(f"roi_prior for {ch!r}: the sd must be positive; got {sd}")
        object.__setattr__(self, "roi_prior", {ch: (float(m), float(s)) for ch, (m, s) in self.roi_prior.items()})
        object.__setattr__(self, "lift_tests", parse_lift_tests(self.lift_tests, self.channels))

    def bounds_for(self, channels) -> dict:
        """``{channel: (low, high)}`` spend multipliers for the budget."""
        bounds = self.budget_bounds
        if isinstance(bounds, Mapping):
            unknown = sorted(set(bounds) - set(channels))
            if unknown:
                raise ValueError(f"budget_bounds given for {unknown}, which are not channels {list(channels)}")
            out = {c: tuple(bounds.get(c, (0.5, 1.5))) for c in channels}
        else:
            out = {c: tuple(bounds) for c in channels}
        for c, b in out.items():
            if len(b) != 2 or not 0 <= float(b[0]) <= 1 <= float(b[1]):
                raise ValueError(
                    f"budget_bounds for {c!r} must be [low, high] multipliers with 0 <= low <= 1 <= high; got {list(b)}"
                )
        return {c: (float(b[0]), float(b[1])) for c, b in out.items()}

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> "MMMConfig":
        """Build from a mapping; unknown keys are an error that names them."""
        if not isinstance(spec, Mapping):
            raise ValueError("a marketing mix config must be a mapping (JSON object / YAML mapping)")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(spec) - fields)
        if unknown:
            raise ValueError(f"unknown keys in config: {unknown}; known keys are {sorted(fields)}")
        missing = [k for k in ("target", "channels") if k not in spec]
        if missing:
            raise ValueError(f"config is missing {missing}")
        spec = dict(spec)
        if isinstance(spec.get("budget_bounds"), list):
            spec["budget_bounds"] = tuple(spec["budget_bounds"])
        return cls(**spec)

    def to_dict(self) -> dict:
        """A JSON-ready mapping."""
        out = dataclasses.asdict(self)
        for k in ("channels", "controls", "mediators"):
            out[k] = list(out[k])
        out["model_params"] = dict(self.model_params)
        out["discovery_params"] = dict(self.discovery_params)
        out["roi_prior"] = {ch: list(v) for ch, v in self.roi_prior.items()}
        out["priors"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.priors.items()}
        out["lift_tests"] = [
            {**t._asdict(), "start": str(t.start.date()), "end": str(t.end.date())} for t in self.lift_tests
        ]
        if isinstance(out["budget_bounds"], tuple):
            out["budget_bounds"] = list(out["budget_bounds"])
        if self.roi_range is not None:
            out["roi_range"] = {c: list(b) for c, b in self.roi_range.items()}
        return out


def load_config(path: Union[str, os.PathLike]) -> MMMConfig:
    """Read a :class:`MMMConfig` from ``.json``, ``.yaml`` or ``.yml``; relative graph and
    knowledge paths are resolved against the config's folder."""
    text = str(path)
    spec = read_spec(path, "config")
    folder = os.path.dirname(os.path.abspath(text))
    for key in ("graph", "knowledge"):
        value = spec.get(key)
        if isinstance(value, str) and value != "default" and not os.path.isabs(value) and not value.lstrip().startswith("{"):
            spec[key] = os.path.join(folder, value)
    return MMMConfig.from_dict(spec)


def _choice(name: str, value: str, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"config {name!r} must be one of {list(allowed)}; got {value!r}")
