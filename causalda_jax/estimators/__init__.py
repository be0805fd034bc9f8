"""Pluggable conditional estimators for ancestral sampling: kernel, additive noise, mixture density, classifier."""

from ._ancestral import ESTIMATORS as ESTIMATORS
from ._ancestral import make_estimator as make_estimator
from ._anm import ANM as ANM
from ._anm import FittedANM as FittedANM
from ._base import ConditionalEstimator as ConditionalEstimator
from ._base import FittedConditional as FittedConditional
from ._classifier import Classifier as Classifier
from ._classifier import FittedClassifier as FittedClassifier
from ._kernel import FittedKernel as FittedKernel
from ._kernel import Kernel as Kernel
from ._kernel import NoKernelMassError as NoKernelMassError
from ._mdn import MDN as MDN
from ._mdn import FittedMDN as FittedMDN
from ._regressors import LinearMean as LinearMean
from ._regressors import ridge as ridge

__all__ = [
    "ANM",
    "ESTIMATORS",
    "MDN",
    "Classifier",
    "ConditionalEstimator",
    "FittedANM",
    "FittedClassifier",
    "FittedConditional",
    "FittedKernel",
    "FittedMDN",
    "Kernel",
    "LinearMean",
    "NoKernelMassError",
    "make_estimator",
    "ridge",
]
