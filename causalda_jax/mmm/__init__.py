"""Marketing mix modelling with causal data augmentation: simulate, fit, KPIs, budget, report."""

from ._budget import BudgetResult as BudgetResult
from ._budget import allocate_gradient as allocate_gradient
from ._budget import allocate_search as allocate_search
from ._budget import fit_hill_curve as fit_hill_curve
from ._budget import project_to_budget as project_to_budget
from ._coherence import coherence_checks as coherence_checks
from ._coherence import kpi_series as kpi_series
from ._config import MMMConfig as MMMConfig
from ._config import load_config as load_config
from ._data import feature_table as feature_table
from ._diagnostics import Diagnostics as Diagnostics
from ._diagnostics import RobustFit as RobustFit
from ._diagnostics import diagnostics as diagnostics
from ._diagnostics import robust_wls as robust_wls
from ._diagnostics import variance_inflation as variance_inflation
from ._diagnostics import weighted_correlation as weighted_correlation
from ._data import validate_weekly as validate_weekly
from ._holdout import HoldoutResult as HoldoutResult
from ._holdout import forecast_scores as forecast_scores
from ._holdout import holdout_validation as holdout_validation
from ._kpis import MMMResults as MMMResults
from ._kpis import ResponseModel as ResponseModel
from ._kpis import channel_kpis as channel_kpis
from ._kpis import compare_with_truth as compare_with_truth
from ._knowledge import default_knowledge as default_knowledge
from ._knowledge import expert_graph as expert_graph
from ._model import MarketingMixModel as MarketingMixModel
from ._model import make_regressor as make_regressor
from ._risk_budget import RiskAwareBudget as RiskAwareBudget
from ._risk_budget import risk_aware_budget as risk_aware_budget
from ._simulate import SimulatedMMM as SimulatedMMM
from ._summary import ReportSummary as ReportSummary
from ._summary import allocation_lift as allocation_lift
from ._summary import summarize_run as summarize_run
from ._simulate import simulate as simulate
from ._transforms import delayed_adstock as delayed_adstock
from ._transforms import fit_geometric_decay as fit_geometric_decay
from ._transforms import geometric_adstock as geometric_adstock
from ._transforms import hill as hill
from ._transforms import logistic_saturation as logistic_saturation
from ._workflow import run_workflow as run_workflow

__all__ = [
    "BudgetResult",
    "Diagnostics",
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
    "channel_kpis",
    "coherence_checks",
    "compare_with_truth",
    "default_knowledge",
    "delayed_adstock",
    "diagnostics",
    "expert_graph",
    "feature_table",
    "fit_geometric_decay",
    "fit_hill_curve",
    "forecast_scores",
    "geometric_adstock",
    "hill",
    "holdout_validation",
    "kpi_series",
    "load_config",
    "logistic_saturation",
    "make_regressor",
    "project_to_budget",
    "risk_aware_budget",
    "robust_wls",
    "run_workflow",
    "simulate",
    "summarize_run",
    "validate_weekly",
    "variance_inflation",
    "weighted_correlation",
]
