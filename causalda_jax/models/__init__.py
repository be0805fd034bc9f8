"""Learners for weighted (augmented) data: Equinox MLPs with scikit-learn wrappers and their training loop."""

from ._mlp import MLP as MLP
from ._mlp import MLPClassifier as MLPClassifier
from ._mlp import MLPRegressor as MLPRegressor
from ._training import TrainResult as TrainResult
from ._training import train as train

__all__ = ["MLP", "MLPClassifier", "MLPRegressor", "TrainResult", "train"]
