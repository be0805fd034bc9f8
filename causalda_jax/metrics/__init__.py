"""Metrics of augmented data: similarity, diversity, size and downstream efficiency."""

from ._diversity import diversity as diversity
from .._sample_weight import effective_sample_size as effective_sample_size
from ._diversity import frac_augmented as frac_augmented
from ._diversity import frac_filtered as frac_filtered
from ._efficiency import mape as mape
from ._efficiency import r2_score as r2_score
from ._similarity import kl_divergence as kl_divergence
from ._similarity import wasserstein as wasserstein

__all__ = [
    "diversity",
    "effective_sample_size",
    "frac_augmented",
    "frac_filtered",
    "kl_divergence",
    "mape",
    "r2_score",
    "wasserstein",
]
