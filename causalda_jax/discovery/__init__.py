"""Hybrid causal discovery: learn a DAG from data and expert knowledge, and report where they disagree."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._ci_tests import fisher_z as fisher_z, make_ci_test as make_ci_test, rcit as rcit
    from ._cpdag import compelled_edges as compelled_edges
    from ._discover import discover as discover
    from ._knowledge import Knowledge as Knowledge
    from ._plot import plot_agreement as plot_agreement
    from ._report import DisagreementReport as DisagreementReport
    from ._result import DiscoveryResult as DiscoveryResult

# Loaded on first use, so that the command-line tool starts without the heavy libraries.
_EXPORTS = {
    "fisher_z": "_ci_tests",
    "make_ci_test": "_ci_tests",
    "rcit": "_ci_tests",
    "compelled_edges": "_cpdag",
    "discover": "_discover",
    "Knowledge": "_knowledge",
    "plot_agreement": "_plot",
    "DisagreementReport": "_report",
    "DiscoveryResult": "_result",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "DisagreementReport",
    "DiscoveryResult",
    "Knowledge",
    "compelled_edges",
    "discover",
    "fisher_z",
    "make_ci_test",
    "plot_agreement",
    "rcit",
]
