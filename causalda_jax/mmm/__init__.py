"""Marketing mix modelling with causal data augmentation: simulate, fit, KPIs, budget, report."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._bayes import BayesianResponse as BayesianResponse
    from ._bayes import BayesPriors as BayesPriors
    from ._bayes import bayes_model as bayes_model
    from ._bayes import sample_posterior as sample_posterior
    from ._lift import LiftTest as LiftTest
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
    from ._coherence import coherence_checks as coherence_checks
    from ._coherence import kpi_series as kpi_series
    from ._diagnostics import Diagnostics as Diagnostics
    from ._diagnostics import RobustFit as RobustFit
    from ._diagnostics import diagnostics as diagnostics
    from ._diagnostics import robust_wls as robust_wls
    from ._diagnostics import variance_inflation as variance_inflation
    from ._diagnostics import weighted_correlation as weighted_correlation
    from ._holdout import HoldoutResult as HoldoutResult
    from ._holdout import forecast_scores as forecast_scores
    from ._holdout import holdout_validation as holdout_validation
    from ._risk_budget import RiskAwareBudget as RiskAwareBudget
    from ._risk_budget import risk_aware_budget as risk_aware_budget
    from ._summary import ReportSummary as ReportSummary
    from ._summary import allocation_lift as allocation_lift
    from ._summary import summarize_run as summarize_run

# Loaded on first use, so that the command-line tool starts without the heavy libraries.
_EXPORTS = {
    "BayesianResponse": "_bayes",
    "BayesPriors": "_bayes",
    "bayes_model": "_bayes",
    "sample_posterior": "_bayes",
    "LiftTest": "_lift",
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
    "coherence_checks": "_coherence",
    "kpi_series": "_coherence",
    "Diagnostics": "_diagnostics",
    "RobustFit": "_diagnostics",
    "diagnostics": "_diagnostics",
    "robust_wls": "_diagnostics",
    "variance_inflation": "_diagnostics",
    "weighted_correlation": "_diagnostics",
    "HoldoutResult": "_holdout",
    "forecast_scores": "_holdout",
    "holdout_validation": "_holdout",
    "RiskAwareBudget": "_risk_budget",
    "risk_aware_budget": "_risk_budget",
    "ReportSummary": "_summary",
    "allocation_lift": "_summary",
    "summarize_run": "_summary",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "BayesPriors",
    "BayesianResponse",
    "BudgetResult",
    "Diagnostics",
    "LiftTest",
    "Estimate",
    "HoldoutResult",
    "MMMConfig",
    "MMMResults",
    "MarketingMixModel",
    "ReportSummary",
    "ResponseModel",
    "RiskAwareBudget",
    "RobustFit",
    "SimulatedMMM",
    "allocate_gradient",
    "allocate_search",
    "allocation_lift",
    "bayes_model",
    "channel_kpis",
    "coherence_checks",
    "compare_with_truth",
    "coverage_summary",
    "default_knowledge",
    "delayed_adstock",
    "diagnostics",
    "ensemble_estimate",
    "expert_graph",
    "feature_table",
    "fit_geometric_decay",
    "fit_hill_curve",
    "forecast_scores",
    "geometric_adstock",
    "hill",
    "holdout_validation",
    "interval_coverage",
    "kpi_series",
    "load_config",
    "logistic_saturation",
    "make_regressor",
    "project_to_budget",
    "risk_aware_budget",
    "robust_wls",
    "run_workflow",
    "sample_posterior",
    "simulate",
    "summarize_run",
    "validate_weekly",
    "variance_inflation",
    "weighted_correlation",
]
