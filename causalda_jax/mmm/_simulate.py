"""A weekly marketing mix simulator with known answers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .._graph import CausalGraph
from ._transforms import geometric_adstock, hill

__all__ = ["SimulatedMMM", "simulate", "seasonality_features", "CONTROLS", "SEASONALITY"]

_CHANNEL_POOL = ("tv", "radio", "social", "search", "display", "ooh")
# Weekly budget scale, retention, half-saturation (in weeks of average adstock) and maximal weekly effect.
_CHANNEL_PARAMS = {
    "tv": (10.0, 0.7, 1.0, 18.0),
    "radio": (3.0, 0.5, 0.8, 6.0),
    "social": (5.0, 0.3, 1.2, 9.0),
    "search": (6.0, 0.1, 0.9, 12.0),
    "display": (2.5, 0.4, 1.5, 3.0),
    "ooh": (2.0, 0.6, 1.0, 3.5),
}
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
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=weeks, freq="W-SUN")
    season = seasonality_features(dates)
    s_sin, s_cos, trend = season["season_sin"].to_numpy(), season["season_cos"].to_numpy(), season["trend"].to_numpy()

    # Hidden demand: a slow AR(1) signal.
    demand = np.zeros(weeks)
    shocks = rng.normal(0.0, np.sqrt(1 - 0.85**2), weeks)
    demand[0] = rng.normal()
    for t in range(1, weeks):
        demand[t] = 0.85 * demand[t - 1] + shocks[t]

    c = len(names)
    budget = np.array([_CHANNEL_PARAMS[n][0] for n in names])
    decay = np.array([_CHANNEL_PARAMS[n][1] for n in names])
    half = np.array([_CHANNEL_PARAMS[n][2] for n in names])
    beta = np.array([_CHANNEL_PARAMS[n][3] for n in names])
    slope = np.where(np.arange(c) % 2 == 0, 1.0, 2.0)
    season_loading = rng.uniform(0.2, 0.5, c)
    # Planner: spends follow the season and the demand they can see, plus idiosyncratic moves.
    log_spend = (
        season_loading[None, :] * (s_sin[:, None] + 0.5 * s_cos[:, None])
        + confounding * 0.8 * demand[:, None]
        + rng.normal(0.0, 0.35, (weeks, c))
    )
    spend = budget[None, :] * np.exp(log_spend - 0.5 * 0.35**2)
    # Flighting: some weeks dark for the more expensive channels.
    dark = (rng.uniform(size=(weeks, c)) < 0.08) & (budget[None, :] >= 5)
    spend = np.where(dark, 0.0, spend).round(2)

    adstock = np.asarray(geometric_adstock(spend, decay), dtype=np.float64)
    # Half saturation is expressed relative to the steady-state adstock of the average budget.
    k = half * budget / (1 - decay)
    media = beta[None, :] * np.asarray(hill(adstock, k, slope), dtype=np.float64)

    price = (10.0 * (1 + 0.05 * rng.normal(size=weeks)) * (1 + 0.02 * trend)).round(2)
    promo = (rng.uniform(size=weeks) < 0.15).astype(np.float64)

    mediator_parent = names[0]
    k_med = budget[0] / (1 - decay[0])
    med_noise = rng.normal(0.0, 2.0, weeks)

    def branded(ad0):
        return 20.0 + 30.0 * np.asarray(hill(ad0, k_med, 1.0)) + 3.0 * confounding * demand + med_noise

    mediator = branded(adstock[:, 0])
    baseline = 100.0 + 15.0 * trend + 8.0 * s_sin + 4.0 * s_cos
    controls = -4.0 * (price - 10.0) + 10.0 * promo
    demand_effect = 8.0 * confounding * demand
    eps = rng.normal(0.0, noise, weeks)
    sales = baseline + media.sum(axis=1) + mediator_effect * mediator + controls + demand_effect + eps

    def true_sales(new_spend: np.ndarray) -> np.ndarray:
        new_spend = np.asarray(new_spend, np.float64)
        if new_spend.shape != (weeks, c):
            raise ValueError(f"spend must have shape ({weeks}, {c}); got {new_spend.shape}")
        ad = np.asarray(geometric_adstock(new_spend, decay), dtype=np.float64)
        med = branded(ad[:, 0])
        eff = beta[None, :] * np.asarray(hill(ad, k, slope), dtype=np.float64)
        return baseline + eff.sum(axis=1) + mediator_effect * med + controls + demand_effect + eps

    # True contributions: switch one channel off for every week, keep all noise.
    contrib = media.copy()
    mediated = mediator_effect * (mediator - branded(np.zeros(weeks)))
    contrib[:, 0] += mediated
    totals = spend.sum(axis=0)
    roi = pd.Series(np.divide(contrib.sum(axis=0), totals, out=np.zeros(c), where=totals > 0), index=list(names))
    roi.name = "roi"

    data = pd.DataFrame({"date": dates, "sales": sales.round(3)})
    for j, n in enumerate(names):
        data[n] = spend[:, j]
    data["branded_search"] = mediator.round(3)
    data["price"] = price
    data["promo"] = promo
    # Rounding of sales: keep the components consistent with the published column.
    eps = eps + (data["sales"].to_numpy() - sales)

    components = pd.DataFrame({"date": dates, "baseline": baseline})
    for j, n in enumerate(names):
        components[f"media_{n}"] = media[:, j]
    components["mediator"] = mediator_effect * mediator
    components["controls"] = controls
    components["demand"] = demand_effect
    components["noise"] = eps

    contributions = pd.DataFrame({"date": dates})
    for j, n in enumerate(names):
        contributions[n] = contrib[:, j]

    graph = mmm_true_graph(names, mediator_parent, confounded=confounding > 0)
    params = {
        "decay": dict(zip(names, decay.tolist())),
        "half_saturation": dict(zip(names, k.tolist())),
        "slope": dict(zip(names, slope.tolist())),
        "max_effect": dict(zip(names, beta.tolist())),
        "mediator_half_saturation": float(k_med),
        "mediator_max": 30.0,
        "mediator_effect": mediator_effect,
        "confounding": confounding,
        "noise": noise,
        "seed": seed,
    }
    return SimulatedMMM(
        data=data,
        graph=graph,
        contributions=contributions,
        roi=roi,
        components=components,
        hidden_demand=demand,
        params=params,
        channels=tuple(names),
        mediator="branded_search",
        mediator_parent=mediator_parent,
        true_sales=true_sales,
    )


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
