"""Hybrid causal discovery: learn a DAG from data and expert knowledge, and report where they disagree."""

from ._ci_tests import fisher_z as fisher_z, make_ci_test as make_ci_test, rcit as rcit
from ._cpdag import compelled_edges as compelled_edges
from ._discover import discover as discover
from ._knowledge import Knowledge as Knowledge
from ._plot import plot_agreement as plot_agreement
from ._report import DisagreementReport as DisagreementReport
from ._result import DiscoveryResult as DiscoveryResult

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
