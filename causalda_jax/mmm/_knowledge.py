"""Built-in expert knowledge for marketing mix graphs."""

from __future__ import annotations

from .._graph import CausalGraph
from ._config import MMMConfig
from ._simulate import SEASONALITY

__all__ = ["default_knowledge", "expert_graph", "knowledge_tiers"]


def knowledge_tiers(config: MMMConfig) -> list[list[str]]:
    """The causal order of a marketing mix's variables, earliest tier first (empty tiers left out).

    Calendar features and controls, then media channels, then mediators, then the target.

    Example:
        >>> knowledge_tiers(MMMConfig(target="sales", channels=("tv", "radio"), seasonality=False))
        [['tv', 'radio'], ['sales']]
    """
    first = (list(SEASONALITY) if config.seasonality else []) + list(config.controls)
    tiers = [first, list(config.channels), list(config.mediators), [config.target]]
    return [t for t in tiers if t]


def default_knowledge(config: MMMConfig):
    """What a marketing analyst would tell the graph learner, as a ``Knowledge`` object.

    Tiers: calendar and controls (trend, season, price, promotions) come first, then media
    spends, then mediators (e.g. branded search), then the target; nothing points back to an
    earlier tier. Calendar features cause nothing among themselves (forbidden both ways).
    Every variable is required to drive the target: that is the premise of a marketing mix
    model, and the augmentation needs the target to depend on all of them. The disagreement
    report still gives the data's verdict on each of these edges.

    Example:
        >>> cfg = MMMConfig(target="sales", channels=("tv", "radio"), mediators=("branded_search",))
        >>> default_knowledge(cfg).tiers[-1]
        ('sales',)
    """
    from ..discovery import Knowledge

    calendar = list(SEASONALITY) if config.seasonality else []
    forbidden = [(u, v) for u in calendar for v in calendar if u != v]
    nodes = [v for tier in knowledge_tiers(config) for v in tier]
    required = [(v, config.target) for v in nodes if v != config.target]
    return Knowledge(required=required, forbidden=forbidden, tiers=knowledge_tiers(config))


def expert_graph(config: MMMConfig) -> CausalGraph:
    """The graph an analyst would draw without data: every earlier tier drives every later one,
    except that calendar features do not drive each other and controls drive only the target.

    Used when no graph is given and graph learning is unavailable; it is dense on purpose
    (missing a true edge is worse than keeping a spurious one for augmentation).
    """
    calendar = list(SEASONALITY) if config.seasonality else []
    nodes = calendar + list(config.controls) + list(config.channels) + list(config.mediators) + [config.target]
    directed = [(u, config.target) for u in nodes if u != config.target]
    directed += [(s, c) for s in calendar for c in config.channels]
    directed += [(c, m) for c in config.channels for m in config.mediators]
    directed += [(s, m) for s in calendar for m in config.mediators]
    return CausalGraph(nodes, directed)
