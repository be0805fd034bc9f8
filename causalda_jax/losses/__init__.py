"""Weighted losses ``sum_i w_i L_i / sum_i w_i``, differentiable in the weights (per-example losses from optax)."""

from ._weighted import per_example_error as per_example_error
from ._weighted import weighted_cross_entropy as weighted_cross_entropy
from ._weighted import weighted_huber as weighted_huber
from ._weighted import weighted_loss as weighted_loss
from ._weighted import weighted_mae as weighted_mae
from ._weighted import weighted_mse as weighted_mse

__all__ = [
    "per_example_error",
    "weighted_cross_entropy",
    "weighted_huber",
    "weighted_loss",
    "weighted_mae",
    "weighted_mse",
]
