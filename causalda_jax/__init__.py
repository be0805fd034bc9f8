"""causalda-jax: causal data augmentation with a JAX core.

The public surface: causal graphs, the augmentation engine and sampler, learning on augmented
data, discovery, and the ``scm``, ``metrics``, ``study``, ``models`` and ``mmm`` subpackages.
"""

from . import discovery as discovery
from . import metrics as metrics
from . import mmm as mmm
from . import models as models
from . import scm as scm
from . import study as study
from ._augment import AugmentationOverflowError as AugmentationOverflowError
from ._augment import augment as augment
from ._augmented_data import AugmentedData as AugmentedData
from ._augmented_regressor import AugmentedRegressor as AugmentedRegressor
from ._augmented_regressor import mix_weights as mix_weights
from ._bandwidth import bandwidth_rule as bandwidth_rule
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
from .discovery import DiscoveryResult as DiscoveryResult
from .discovery import Knowledge as Knowledge
from .discovery import discover as discover
from .mmm import MarketingMixModel as MarketingMixModel

__version__ = "0.1.0"

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
