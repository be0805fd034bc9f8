"""Marketing mix modelling with causal data augmentation: simulate, fit, KPIs, budget, report."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._budget import BudgetResult as BudgetResult
    from ._budget import allocate_gradient as allocate_gradient
    from ._budget import allocate_search as allocate_search
    from ._budget import fit_hill_curve as fit_hill_curve
    from ._budget import project_to_budget as project_to_budget
    from ._config import MMMConfig as MMMConfig
    from ._config import load_config as load_config
    from ._coverage import coverage_summary as coverage_summary
    from ._coverage import interval_coverage as interval_coverage
    from ._data import feature_table as feature_table
    from ._data import validate_weekly as validate_weekly
    from ._kpis import MMMResults as MMMResults
    from ._kpis import ResponseModel as ResponseModel
    from ._kpis import channel_kpis as channel_kpis
    from ._kpis import compare_with_truth as compare_with_truth
    from ._intervals import Estimate as Estimate
    from ._intervals import ensemble_estimate as ensemble_estimate
    from ._knowledge import default_knowledge as default_knowledge
    from ._knowledge import expert_graph as expert_graph
    from ._model import MarketingMixModel as MarketingMixModel
    from ._model import make_regressor as make_regressor
    from ._simulate import SimulatedMMM as SimulatedMMM
    from ._simulate import simulate as simulate
    from ._transforms import delayed_adstock as delayed_adstock
    from ._transforms import fit_geometric_decay as fit_geometric_decay
    from ._transforms import geometric_adstock as geometric_adstock
    from ._transforms import hill as hill
    from ._transforms import logistic_saturation as logistic_saturation
    from ._workflow import run_workflow as run_workflow

# Loaded on first use, so that the command-line tool starts without the heavy libraries.
_EXPORTS = {
    "BudgetResult": "_budget",
    "allocate_gradient": "_budget",
    "allocate_search": "_budget",
    "fit_hill_curve": "_budget",
    "project_to_budget": "_budget",
    "MMMConfig": "_config",
    "load_config": "_config",
    "coverage_summary": "_coverage",
    "interval_coverage": "_coverage",
    "Estimate": "_intervals",
    "ensemble_estimate": "_intervals",
    "feature_table": "_data",
    "validate_weekly": "_data",
    "MMMResults": "_kpis",
    "ResponseModel": "_kpis",
    "channel_kpis": "_kpis",
    "compare_with_truth": "_kpis",
    "default_knowledge": "_knowledge",
    "expert_graph": "_knowledge",
    "MarketingMixModel": "_model",
    "make_regressor": "_model",
    "SimulatedMMM": "_simulate",
    "simulate": "_simulate",
    "delayed_adstock": "_transforms",
    "fit_geometric_decay": "_transforms",
    "geometric_adstock": "_transforms",
    "hill": "_transforms",
    "logistic_saturation": "_transforms",
    "run_workflow": "_workflow",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "BudgetResult",
    "Estimate",
    "MMMConfig",
    "MMMResults",
    "MarketingMixModel",
    "ResponseModel",
    "SimulatedMMM",
    "allocate_gradient",
    "allocate_search",
    "channel_kpis",
    "compare_with_truth",
    "coverage_summary",
    "default_knowledge",
    "delayed_adstock",
    "ensemble_estimate",
    "expert_graph",
    "feature_table",
    "fit_geometric_decay",
    "fit_hill_curve",
    "geometric_adstock",
    "hill",
    "interval_coverage",
    "load_config",
    "logistic_saturation",
    "make_regressor",
    "project_to_budget",
    "run_workflow",
    "simulate",
    "validate_weekly",
]
