"""Random structural causal models for benchmarks (the Causal Discovery Toolbox family)."""

from ._generate import random_scm as random_scm
from ._graphs import random_dag as random_dag
from ._mechanisms import MECHANISMS as MECHANISMS
from ._roots import ROOTS as ROOTS

__all__ = ["MECHANISMS", "ROOTS", "random_dag", "random_scm"]
