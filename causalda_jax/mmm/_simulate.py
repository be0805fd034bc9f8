"""A weekly marketing mix simulator with known answers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._graph import CausalGraph
from ._transforms import geometric_adstock, hill

__all__ = ["SimulatedMMM", "simulate", "seasonality_features", "CONTROLS", "SEASONALITY"]

_CHANNEL_POOL = ("tv", "radio", "social", "search", "display", "ooh")


class _Channel(NamedTuple):
    """How one channel is bought and how sales respond to it."""

    budget: float  # average weekly spend
    retention: float  # share of last week's adstock still working this week (geometric decay)
    half_saturation: float  # adstock giving half the maximal effect, in weeks of average adstock
    max_effect: float  # sales per week at full saturation


_CHANNEL_PARAMS = {
    "tv": _Channel(10.0, 0.7, 1.0, 18.0),
    "radio": _Channel(3.0, 0.5, 0.8, 6.0),
    "social": _Channel(5.0, 0.3, 1.2, 9.0),
    "search": _Channel(6.0, 0.1, 0.9, 12.0),
    "display": _Channel(2.5, 0.4, 1.5, 3.0),
    "ooh": _Channel(2.0, 0.6, 1.0, 3.5),
}


@dataclasses.dataclass(frozen=True)
class _Market:
    """The market the simulator plays out: every fixed number of :func:`simulate`, in marketing terms."""

    demand_persistence: float = 0.85  # AR(1) coefficient of the hidden weekly demand (stationary, unit variance)
    season_loading_range: tuple = (0.2, 0.5)  # how strongly each planner follows the season (uniform draw)
    season_cos_weight: float = 0.5  # weight of the cosine against the sine in the planners' seasonal plan
    spend_demand_loading: float = 0.8  # log-spend per unit of demand the planners see, at confounding 1
    spend_noise_sd: float = 0.35  # week-to-week idiosyncratic moves of log-spend
    dark_week_share: float = 0.08  # chance that a channel is off air in a week (flighting)
    dark_min_budget: float = 5.0  # only channels with at least this weekly budget go dark
    base_price: float = 10.0  # list price
    price_noise_sd: float = 0.05  # relative week-to-week price variation
    price_inflation: float = 0.02  # relative price increase over the whole period
    promo_share: float = 0.15  # share of weeks with a promotion
    branded_floor: float = 20.0  # branded search volume with no media and average demand
    branded_max: float = 30.0  # extra branded search volume at full saturation of the parent channel
    branded_demand_loading: float = 3.0  # branded search per unit of demand, at confounding 1
    branded_noise_sd: float = 2.0  # week-to-week noise of branded search
    base_sales: float = 100.0  # weekly sales with no media, controls or demand, at the start
    trend_lift: float = 15.0  # baseline growth over the whole period
    season_sin_effect: float = 8.0  # baseline sales per unit of the annual sine
    season_cos_effect: float = 4.0  # baseline sales per unit of the annual cosine
    price_effect: float = -4.0  # sales per unit of price above the list price
    promo_effect: float = 10.0  # sales in a promotion week
    demand_sales_loading: float = 8.0  # sales per unit of demand, at confounding 1


_MARKET = _Market()


SEASONALITY = ("trend", "season_sin", "season_cos")
CONTROLS = ("price", "promo")


@dataclasses.dataclass(frozen=True)
class SimulatedMMM:
    """A simulated marketing data set and its ground truth.

    Attributes:
        data: weekly table: ``date``, ``sales``, one spend column per channel, the mediator
            (``branded_search``), ``price`` and ``promo``.
        graph: the true causal graph over the model's variables (seasonality features,
            controls, adstocked channels, mediator, sales); the hidden demand appears as
            bidirected edges between everything it drives.
        contributions: true weekly contribution of every channel (sales minus sales with
            that channel's spend set to zero in every week, carry-over and the mediator
            path included, same noise); columns ``date`` and the channels.
        roi: true return on investment per channel (total contribution / total spend).
        components: the additive pieces of sales per week (baseline, each channel's
            direct effect, mediator effect, controls, demand, noise), summing to ``sales``.
        hidden_demand: the unobserved demand that drives both spends and sales.
        params: the parameters used (decays, half saturations, slopes, effect sizes).
        channels: channel names.
        mediator: the mediator's name.
        mediator_parent: the channel that drives the mediator.
        true_sales: ``f(spend) -> sales`` for a ``(weeks, channels)`` spend matrix with the
            same demand, controls and noise: the exact answer to any spend scenario.
    """

    data: pd.DataFrame
    graph: CausalGraph
    contributions: pd.DataFrame
    roi: pd.Series
    components: pd.DataFrame
    hidden_demand: np.ndarray
    params: dict
    channels: tuple
    mediator: str
    mediator_parent: str
    true_sales: Callable[[np.ndarray], np.ndarray] = dataclasses.field(repr=False, compare=False, default=None)

    def true_lift(self, channel: str, start, end) -> float:
        """Exact lift of a test: sales over ``[start, end]`` minus the same with ``channel`` off there.

        Example:
            >>> sim = simulate(weeks=60, channels=3, seed=0)
            >>> sim.true_lift("radio", "2021-03-07", "2021-04-04") > 0
            True
        """
        dates = self.data["date"]
        window = ((dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))).to_numpy()
        spend = self.data[list(self.channels)].to_numpy(np.float64)
        off = spend.copy()
        off[window, list(self.channels).index(channel)] = 0.0
        return float((self.true_sales(spend) - self.true_sales(off))[window].sum())


def seasonality_features(dates: pd.Series | pd.DatetimeIndex) -> pd.DataFrame:
    """Trend (0 to 1) and one annual Fourier pair, from weekly dates.

    Example:
        >>> f = seasonality_features(pd.date_range("2024-01-07", periods=3, freq="W-SUN"))
        >>> list(f.columns)
        ['trend', 'season_sin', 'season_cos']
    """
    dates = pd.DatetimeIndex(pd.to_datetime(dates))
    days = np.asarray((dates - dates[0]).days, dtype=np.float64)
    span = max(days[-1], 1.0) if len(days) else 1.0
    phase = 2 * np.pi * np.asarray(dates.day_of_year, dtype=np.float64) / 365.25
    return pd.DataFrame(
        {"trend": days / span, "season_sin": np.sin(phase), "season_cos": np.cos(phase)},
        index=range(len(dates)),
    )


def simulate(
    weeks: int = 156,
    channels: int | Sequence[str] = 4,
    seed: int = 0,
    *,
    confounding: float = 0.6,
    noise: float = 4.0,
    mediator_effect: float = 0.5,
    start: str = "2021-01-03",
) -> SimulatedMMM:
    """Simulate weekly sales driven by media with carry-over, saturation, a mediator and a confounder.

    A planner sets each channel's weekly spend from its budget, the season and a hidden
    demand signal (so spends move together and are confounded with sales). Each channel's
    spend is geometrically adstocked and Hill-saturated. The first channel in the pool that
    is present (``tv`` when chosen) also raises branded search volume, which raises sales
    (the mediated path). Price lowers and promotions raise sales; trend and seasonality
    move the baseline.

    Args:
        weeks: number of weekly rows.
        channels: a count (3 to 6, taken from ``tv, radio, social, search, display, ooh``)
            or the names (from that pool).
        seed: seed of the numpy Generator; the same seed gives the same data.
        confounding: strength of the hidden demand in spends and sales (0 removes it).
        noise: standard deviation of the sales noise.
        mediator_effect: sales per unit of branded search.
        start: first week (a Sunday).

    Returns:
        A :class:`SimulatedMMM` with the data and the ground truth.

    Example:
        >>> sim = simulate(weeks=60, channels=3, seed=1)
        >>> sim.data.shape[0], list(sim.roi.index)
        (60, ['tv', 'radio', 'social'])
    """
    names = _channel_names(channels)
    if weeks < 8:
        raise ValueError(f"weeks must be at least 8 to simulate a marketing mix; got {weeks}")
    # One generator, drawn in a fixed order: demand, spends, controls, branded search, sales noise.
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=weeks, freq="W-SUN")
    season = _Season.from_dates(dates)
    demand = _hidden_demand(rng, weeks)
    response = _MediaResponse.for_channels(names)
    spend = _planned_spend(rng, response.budget, season, confounding * _MARKET.spend_demand_loading * demand)
    controls = _controls(rng, season.trend)
    branded = _BrandedSearch.draw(rng, response, confounding, demand)
    equation = _SalesEquation.draw(rng, season, controls, confounding, demand, noise, mediator_effect, response, branded)
    adstock = response.adstock(spend)
    media = response.effects(adstock)
    mediator = branded.level(adstock[:, 0])
    sales = equation.total(media, mediator)
    contrib = _true_contributions(media, mediator, branded, mediator_effect)
    data = _published_data(dates, names, sales, spend, mediator, controls)
    # The rounding of the published sales joins the noise, so the answers reproduce the published column.
    published = dataclasses.replace(equation, noise=equation.noise + (data["sales"].to_numpy() - sales))
    return SimulatedMMM(
        data=data,
        graph=mmm_true_graph(names, names[0], confounded=confounding > 0),
        contributions=_per_channel(pd.DataFrame({"date": dates}), names, "{}", contrib),
        roi=_roi(contrib, spend, names),
        components=_components(dates, names, media, mediator, published),
        hidden_demand=demand,
        params=_params(names, response, branded, mediator_effect, confounding, noise, seed),
        channels=tuple(names),
        mediator="branded_search",
        mediator_parent=names[0],
        true_sales=published,
    )


class _Season(NamedTuple):
    """The calendar features of every week (see :func:`seasonality_features`)."""

    trend: np.ndarray
    sin: np.ndarray
    cos: np.ndarray

    @classmethod
    def from_dates(cls, dates: pd.DatetimeIndex) -> "_Season":
        f = seasonality_features(dates)
        return cls(f["trend"].to_numpy(), f["season_sin"].to_numpy(), f["season_cos"].to_numpy())


class _Controls(NamedTuple):
    """Price and promotion weeks, and what they add to sales."""

    price: np.ndarray
    promo: np.ndarray
    effect: np.ndarray


def _hidden_demand(rng: np.random.Generator, weeks: int) -> np.ndarray:
    """A slow, stationary AR(1) demand signal with unit variance, unseen by the analyst."""
    rho = _MARKET.demand_persistence
    demand = np.zeros(weeks)
    shocks = rng.normal(0.0, np.sqrt(1 - rho**2), weeks)
    demand[0] = rng.normal()
    for t in range(1, weeks):
        demand[t] = rho * demand[t - 1] + shocks[t]
    return demand


def _planned_spend(rng: np.random.Generator, budget: np.ndarray, season: _Season, seen_demand: np.ndarray) -> np.ndarray:
    """Weekly spends ``(weeks, channels)``: the planners follow the season and the demand they see
    (``seen_demand``, the confounding), move idiosyncratically, and take some weeks off air."""
    m = _MARKET
    weeks, c = seen_demand.size, budget.size
    season_loading = rng.uniform(*m.season_loading_range, c)
    log_spend = (
        season_loading[None, :] * (season.sin[:, None] + m.season_cos_weight * season.cos[:, None])
        + seen_demand[:, None]
        + rng.normal(0.0, m.spend_noise_sd, (weeks, c))
    )
    # The lognormal mean correction keeps the average spend at the budget.
    spend = budget[None, :] * np.exp(log_spend - 0.5 * m.spend_noise_sd**2)
    dark = (rng.uniform(size=(weeks, c)) < m.dark_week_share) & (budget[None, :] >= m.dark_min_budget)
    return np.where(dark, 0.0, spend).round(2)


def _controls(rng: np.random.Generator, trend: np.ndarray) -> _Controls:
    m = _MARKET
    price_moves = 1 + m.price_noise_sd * rng.normal(size=trend.size)
    price = (m.base_price * price_moves * (1 + m.price_inflation * trend)).round(2)
    promo = (rng.uniform(size=trend.size) < m.promo_share).astype(np.float64)
    return _Controls(price, promo, m.price_effect * (price - m.base_price) + m.promo_effect * promo)


@dataclasses.dataclass(frozen=True, eq=False)
class _MediaResponse:
    """Carry-over and saturation of every channel: ``max_effect * hill(adstock(spend), k, slope)``."""

    budget: np.ndarray
    decay: np.ndarray
    half_saturation: np.ndarray
    slope: np.ndarray
    max_effect: np.ndarray

    @classmethod
    def for_channels(cls, names: Sequence[str]) -> "_MediaResponse":
        table = np.array([_CHANNEL_PARAMS[n] for n in names]).T
        budget, decay, half, beta = (np.array(row) for row in table)
        # Half saturation is expressed relative to the steady-state adstock of the average budget.
        k = half * budget / (1 - decay)
        # Alternate response shapes: concave (slope 1) for the first, third, ... channel, S-shaped (2) between.
        slope = np.where(np.arange(len(names)) % 2 == 0, 1.0, 2.0)
        return cls(budget, decay, k, slope, beta)

    def adstock(self, spend: np.ndarray) -> np.ndarray:
        return np.asarray(geometric_adstock(spend, self.decay), dtype=np.float64)

    def effects(self, adstock: np.ndarray) -> np.ndarray:
        return self.max_effect[None, :] * np.asarray(hill(adstock, self.half_saturation, self.slope), dtype=np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class _BrandedSearch:
    """Branded search volume: driven by the first channel's adstock and by demand, with its own noise."""

    half_saturation: float
    demand_term: np.ndarray
    noise: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, response: _MediaResponse, confounding: float, demand: np.ndarray):
        m = _MARKET
        # Saturates at the steady-state adstock of the parent channel's average budget.
        k = response.budget[0] / (1 - response.decay[0])
        noise = rng.normal(0.0, m.branded_noise_sd, demand.size)
        return cls(k, m.branded_demand_loading * confounding * demand, noise)

    def level(self, parent_adstock: np.ndarray) -> np.ndarray:
        m = _MARKET
        saturation = np.asarray(hill(parent_adstock, self.half_saturation, 1.0))
        return m.branded_floor + m.branded_max * saturation + self.demand_term + self.noise


@dataclasses.dataclass(frozen=True, eq=False)
class _SalesEquation:
    """Sales as a function of the weekly spends, everything else (demand, controls, noise) held fixed:
    the simulator's exact answer to any spend scenario."""

    baseline: np.ndarray
    controls: np.ndarray
    demand_effect: np.ndarray
    noise: np.ndarray
    mediator_effect: float
    response: _MediaResponse
    branded: _BrandedSearch

    @classmethod
    def draw(cls, rng, season: _Season, controls: _Controls, confounding, demand, noise, mediator_effect,
             response: _MediaResponse, branded: _BrandedSearch) -> "_SalesEquation":
        m = _MARKET
        baseline = m.base_sales + m.trend_lift * season.trend + m.season_sin_effect * season.sin
        baseline = baseline + m.season_cos_effect * season.cos
        demand_effect = m.demand_sales_loading * confounding * demand
        eps = rng.normal(0.0, noise, demand.size)
        return cls(baseline, controls.effect, demand_effect, eps, mediator_effect, response, branded)

    def total(self, media: np.ndarray, mediator: np.ndarray) -> np.ndarray:
        return (self.baseline + media.sum(axis=1) + self.mediator_effect * mediator + self.controls
                + self.demand_effect + self.noise)

    def __call__(self, spend: np.ndarray) -> np.ndarray:
        spend = np.asarray(spend, np.float64)
        shape = (self.baseline.size, self.response.budget.size)
        if spend.shape != shape:
            raise ValueError(f"spend must have shape {shape}; got {spend.shape}")
        adstock = self.response.adstock(spend)
        return self.total(self.response.effects(adstock), self.branded.level(adstock[:, 0]))


def _true_contributions(media: np.ndarray, mediator: np.ndarray, branded: _BrandedSearch, mediator_effect: float):
    """Sales lost per week by switching one channel off in every week, all noise kept: the direct
    effect, plus (for the mediator's parent) the branded search it drives."""
    contrib = media.copy()
    contrib[:, 0] += mediator_effect * (mediator - branded.level(np.zeros(mediator.size)))
    return contrib


def _roi(contrib: np.ndarray, spend: np.ndarray, names: Sequence[str]) -> pd.Series:
    totals = spend.sum(axis=0)
    roi = pd.Series(np.divide(contrib.sum(axis=0), totals, out=np.zeros(len(names)), where=totals > 0), index=list(names))
    roi.name = "roi"
    return roi


def _per_channel(frame: pd.DataFrame, names: Sequence[str], column: str, values: np.ndarray) -> pd.DataFrame:
    """``frame`` with one column per channel (named ``column.format(channel)``) from ``values[:, j]``."""
    for j, n in enumerate(names):
        frame[column.format(n)] = values[:, j]
    return frame


def _published_data(dates, names, sales, spend, mediator, controls: _Controls) -> pd.DataFrame:
    """What an analyst would receive: sales and branded search as reported (rounded)."""
    data = _per_channel(pd.DataFrame({"date": dates, "sales": sales.round(3)}), names, "{}", spend)
    data["branded_search"] = mediator.round(3)
    data["price"] = controls.price
    data["promo"] = controls.promo
    return data


def _components(dates, names, media, mediator, equation: _SalesEquation) -> pd.DataFrame:
    """The additive pieces of the published sales."""
    components = _per_channel(pd.DataFrame({"date": dates, "baseline": equation.baseline}), names, "media_{}", media)
    components["mediator"] = equation.mediator_effect * mediator
    components["controls"] = equation.controls
    components["demand"] = equation.demand_effect
    components["noise"] = equation.noise
    return components


def _params(names, response: _MediaResponse, branded: _BrandedSearch, mediator_effect, confounding, noise, seed) -> dict:
    return {
        "decay": dict(zip(names, response.decay.tolist())),
        "half_saturation": dict(zip(names, response.half_saturation.tolist())),
        "slope": dict(zip(names, response.slope.tolist())),
        "max_effect": dict(zip(names, response.max_effect.tolist())),
        "mediator_half_saturation": float(branded.half_saturation),
        "mediator_max": _MARKET.branded_max,
        "mediator_effect": mediator_effect,
        "confounding": confounding,
        "noise": noise,
        "seed": seed,
    }


def mmm_true_graph(channels: Sequence[str], mediator_parent: str, confounded: bool = True) -> CausalGraph:
    """The simulator's causal graph over the model variables (see :func:`simulate`)."""
    nodes = list(SEASONALITY) + list(CONTROLS) + list(channels) + ["branded_search", "sales"]
    directed = [(s, "sales") for s in SEASONALITY] + [(x, "sales") for x in CONTROLS]
    for ch in channels:
        directed += [("season_sin", ch), ("season_cos", ch), (ch, "sales")]
    directed += [(mediator_parent, "branded_search"), ("branded_search", "sales")]
    bidirected = []
    if confounded:
        driven = list(channels) + ["branded_search", "sales"]
        bidirected = [(u, v) for i, u in enumerate(driven) for v in driven[i + 1 :]]
    return CausalGraph(nodes, directed, bidirected)


def _channel_names(channels: int | Sequence[str]) -> tuple:
    if isinstance(channels, (int, np.integer)):
        if not 3 <= channels <= 6:
            raise ValueError(f"channels must be between 3 and 6; got {channels}")
        return _CHANNEL_POOL[: int(channels)]
    names = tuple(channels)
    unknown = [n for n in names if n not in _CHANNEL_PARAMS]
    if unknown:
        raise ValueError(f"unknown channels {unknown}; choose from {list(_CHANNEL_POOL)}")
    if not 3 <= len(names) <= 6 or len(set(names)) != len(names):
        raise ValueError(f"give 3 to 6 distinct channels; got {list(names)}")
    return names
