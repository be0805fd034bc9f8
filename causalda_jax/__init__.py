"""causalda-jax: causal data augmentation with a JAX core.

The public surface: causal graphs, the augmentation engine and sampler, learning on augmented
data, discovery, and the ``scm``, ``metrics``, ``study``, ``models`` and ``mmm`` subpackages.
"""

import importlib
from typing import TYPE_CHECKING

from ._augment import AugmentationOverflowError as AugmentationOverflowError
from ._augment import augment as augment
from ._augmented_data import AugmentedData as AugmentedData
from ._bandwidth import bandwidth_rule as bandwidth_rule
from ._compile_cache import enable_compile_cache as enable_compile_cache
from ._differentiable import DifferentiableAugmentation as DifferentiableAugmentation
from ._differentiable import augmentation_log_weights as augmentation_log_weights
from ._graph import CausalGraph as CausalGraph
from ._graph import as_graph as as_graph
from ._losses import weighted_cross_entropy as weighted_cross_entropy
from ._losses import weighted_huber as weighted_huber
from ._losses import weighted_loss as weighted_loss
from ._losses import weighted_mae as weighted_mae
from ._losses import weighted_mse as weighted_mse
from ._sample import NoConditionalError as NoConditionalError
from ._sample import sample as sample

# Compiled kernels persist across processes (opt out: CAUSALDA_NO_COMPILE_CACHE=1).
enable_compile_cache()

if TYPE_CHECKING:
    from . import discovery, metrics, mmm, models, scm, study
    from .discovery import DiscoveryResult, Knowledge, discover
    from ._augmented_regressor import AugmentedRegressor, mix_weights
    from .mmm import MarketingMixModel

__version__ = "0.1.0"

# The domain subpackages and the scikit-learn wrapper pull in scipy.stats, POT, scikit-learn and
# matplotlib; they load on first use.
_SUBPACKAGES = ("discovery", "metrics", "mmm", "models", "scm", "study")
_LAZY_NAMES = {
    "discover": "discovery",
    "Knowledge": "discovery",
    "DiscoveryResult": "discovery",
    "MarketingMixModel": "mmm",
    "AugmentedRegressor": "_augmented_regressor",
    "mix_weights": "_augmented_regressor",
}


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'causalda_jax' has no attribute {name!r}")

__all__ = [
    "AugmentationOverflowError",
    "AugmentedData",
    "AugmentedRegressor",
    "CausalGraph",
    "DifferentiableAugmentation",
    "DiscoveryResult",
    "Knowledge",
    "MarketingMixModel",
    "NoConditionalError",
    "as_graph",
    "augment",
    "augmentation_log_weights",
    "bandwidth_rule",
    "discover",
    "discovery",
    "enable_compile_cache",
    "metrics",
    "mix_weights",
    "mmm",
    "models",
    "sample",
    "scm",
    "study",
    "weighted_cross_entropy",
    "weighted_huber",
    "weighted_loss",
    "weighted_mae",
    "weighted_mse",
]
