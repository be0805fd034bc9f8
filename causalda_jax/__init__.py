"""causalda-jax: causal data augmentation with a JAX core.

The public surface: causal graphs, the augmentation engine and sampler, learning on augmented
data, discovery, and the ``estimators``, ``losses``, ``scm``, ``metrics``, ``study``, ``models`` and
``mmm`` subpackages.
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._compile_cache import enable_compile_cache as enable_compile_cache

# Compiled kernels persist across processes (opt out: CAUSALDA_NO_COMPILE_CACHE=1).
enable_compile_cache()

if TYPE_CHECKING:
    from ._augment import AugmentationOverflowError as AugmentationOverflowError
    from ._augment import augment as augment
    from ._augmented_data import AugmentedData as AugmentedData
    from ._differentiable import DifferentiableAugmentation as DifferentiableAugmentation
    from ._differentiable import augmentation_log_weights as augmentation_log_weights
    from ._graph import CausalGraph as CausalGraph
    from ._distributed import initialize_processes as initialize_processes
    from ._graph import as_graph as as_graph
    from ._sample import NoConditionalError as NoConditionalError
    from ._sample import sample as sample
    from ._stream import ParquetSample as ParquetSample
    from . import discovery, estimators, losses, metrics, mmm, models, scm, study
    from .discovery import DiscoveryResult, Knowledge, discover
    from ._augmented_regressor import AugmentedRegressor
    from .mmm import MarketingMixModel

__version__ = "0.1.0"

# Every name loads on first use: the core pulls in JAX, the domain subpackages and the
# scikit-learn wrapper pull in scipy.stats, POT, scikit-learn and matplotlib, and the command-line
# tool must answer --help and argument errors without any of them.
_EXPORTS = {
    "AugmentationOverflowError": "_augment",
    "augment": "_augment",
    "AugmentedData": "_augmented_data",
    "DifferentiableAugmentation": "_differentiable",
    "augmentation_log_weights": "_differentiable",
    "CausalGraph": "_graph",
    "as_graph": "_graph",
    "initialize_processes": "_distributed",
    "ParquetSample": "_stream",
    "NoConditionalError": "_sample",
    "sample": "_sample",
    "discover": "discovery",
    "Knowledge": "discovery",
    "DiscoveryResult": "discovery",
    "MarketingMixModel": "mmm",
    "AugmentedRegressor": "_augmented_regressor",
    "discovery": "discovery",
    "estimators": "estimators",
    "losses": "losses",
    "metrics": "metrics",
    "mmm": "mmm",
    "models": "models",
    "scm": "scm",
    "study": "study",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
enable_compile_cache()

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
    "ParquetSample",
    "as_graph",
    "augment",
    "augmentation_log_weights",
    "discover",
    "discovery",
    "estimators",
    "initialize_processes",
    "losses",
    "enable_compile_cache",
    "metrics",
    "mmm",
    "models",
    "sample",
    "scm",
    "study",
]
