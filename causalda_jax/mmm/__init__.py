"""Marketing mix modelling with causal data augmentation: simulate, fit, KPIs, budget, report."""

from ._bayes import BayesianResponse as BayesianResponse
from ._bayes import BayesPriors as BayesPriors
from ._bayes import bayes_model as bayes_model
from ._bayes import sample_posterior as sample_posterior
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
from ._lift import LiftTest as LiftTest
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

__all__ = [
    "BayesPriors",
    "BayesianResponse",
    "BudgetResult",
    "LiftTest",
    "Estimate",
    "MMMConfig",
    "MMMResults",
    "MarketingMixModel",
    "ResponseModel",
    "SimulatedMMM",
    "allocate_gradient",
    "allocate_search",
    "bayes_model",
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
    "sample_posterior",
    "simulate",
    "validate_weekly",
]
