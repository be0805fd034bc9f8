"""causalda-jax: causal data augmentation with a JAX core.

The public surface: causal graphs, the augmentation engine and sampler, learning on augmented
data, discovery, and the ``losses``, ``scm``, ``metrics``, ``study``, ``models`` and ``mmm`` subpackages.
"""

import importlib
from typing import TYPE_CHECKING

from ._augment import AugmentationOverflowError as AugmentationOverflowError
from ._augment import augment as augment
from ._augmented_data import AugmentedData as AugmentedData
from ._differentiable import DifferentiableAugmentation as DifferentiableAugmentation
from ._differentiable import augmentation_log_weights as augmentation_log_weights
from ._graph import CausalGraph as CausalGraph
from ._graph import as_graph as as_graph
from ._sample import NoConditionalError as NoConditionalError
from ._sample import sample as sample

if TYPE_CHECKING:
    from . import discovery, losses, metrics, mmm, models, scm, study
    from .discovery import DiscoveryResult, Knowledge, discover
    from ._augmented_regressor import AugmentedRegressor
    from .mmm import MarketingMixModel

__version__ = "0.1.0"

# The domain subpackages and the scikit-learn wrapper pull in scipy.stats, POT, scikit-learn and
# matplotlib; they load on first use.
_SUBPACKAGES = ("discovery", "losses", "metrics", "mmm", "models", "scm", "study")
_LAZY_NAMES = {
    "discover": "discovery",
    "Knowledge": "discovery",
    "DiscoveryResult": "discovery",
    "MarketingMixModel": "mmm",
    "AugmentedRegressor": "_augmented_regressor",
}


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'causalda_jax' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

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
    "discover",
    "discovery",
    "losses",
    "metrics",
    "mmm",
    "models",
    "sample",
    "scm",
    "study",
]
