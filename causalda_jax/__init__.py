"""causalda-jax: causal data augmentation with a JAX core."""

from ._augment import AugmentationOverflowError as AugmentationOverflowError
from ._augment import augment as augment
from ._augmented_data import AugmentedData as AugmentedData
from ._bandwidth import bandwidth_rule as bandwidth_rule
from ._graph import CausalGraph as CausalGraph
from ._graph import as_graph as as_graph

__version__ = "0.1.0"
