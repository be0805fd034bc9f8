"""The random-SCM study of the practical guide: protocol, scenarios, runner, plots, summary."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._aggregate import per_run as per_run
    from ._plots import plot_results as plot_results
    from ._protocol import ARMS as ARMS
    from ._protocol import ESTIMATOR_ARMS as ESTIMATOR_ARMS
    from ._protocol import Protocol as Protocol
    from ._protocol import run_once as run_once
    from ._runner import run_study as run_study
    from ._scenarios import DEFAULTS as DEFAULTS
    from ._scenarios import SCENARIOS as SCENARIOS
    from ._scenarios import Scenario as Scenario
    from ._scenarios import Settings as Settings
    from ._summary import summary_table as summary_table

# Loaded on first use, so that the command-line tool starts without the heavy libraries.
_EXPORTS = {
    "per_run": "_aggregate",
    "plot_results": "_plots",
    "ARMS": "_protocol",
    "ESTIMATOR_ARMS": "_protocol",
    "Protocol": "_protocol",
    "run_once": "_protocol",
    "run_study": "_runner",
    "DEFAULTS": "_scenarios",
    "SCENARIOS": "_scenarios",
    "Scenario": "_scenarios",
    "Settings": "_scenarios",
    "summary_table": "_summary",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "ARMS",
    "DEFAULTS",
    "ESTIMATOR_ARMS",
    "SCENARIOS",
    "Protocol",
    "Scenario",
    "Settings",
    "per_run",
    "plot_results",
    "run_once",
    "run_study",
    "summary_table",
]
