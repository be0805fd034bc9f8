"""The interface of a conditional estimator: fit ``p(y | x)`` on weighted rows, draw from it, score it.

An estimator is a configuration object; ``fit`` returns a *fitted* conditional, an immutable
object (an Equinox module where the model is a JAX function, so that ``jax.grad`` reaches its
parameters). The ancestral sampler of :func:`causalda_jax.sample` fits one conditional per
variable on (Markov-pillow values → variable values) and draws the variables in topological
order, each given the pillow values already drawn.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

__all__ = ["ConditionalEstimator", "FittedConditional", "TARGET_KINDS"]

# What a target column may be: "continuous" (real values), "categorical" (integer codes 0..K-1)
# or "any" (the kernel conditional, which only ever returns observed values).
TARGET_KINDS = ("continuous", "categorical", "any")


@runtime_checkable
class FittedConditional(Protocol):
    """A fitted conditional law ``p(y | x)``."""

    def sample(self, X: Float[ArrayLike, "m c"], *, key: PRNGKeyArray) -> Float[Array, " m"]:
        """One draw of ``y`` for each row of ``X``."""
        ...

    def log_prob(self, X: Float[ArrayLike, "m c"], y: Float[ArrayLike, " m"]) -> Float[Array, " m"]:
        """``log p(y_i | x_i)``: a density for continuous targets, a probability for categorical ones.

        Raises:
            NotImplementedError: the conditional has no density (it resamples observed values).
        """
        ...


@runtime_checkable
class ConditionalEstimator(Protocol):
    """A learner of ``p(y | x)`` from weighted rows.

    Attributes:
        target_kind: one of ``TARGET_KINDS``; the sampler refuses to pair an estimator with a
            column of the other kind.
    """

    target_kind: str

    def fit(
        self,
        X: Float[ArrayLike, "n c"],
        y: Float[ArrayLike, " n"],
        weight: Float[ArrayLike, " n"] | None = None,
        *,
        key: PRNGKeyArray,
    ) -> FittedConditional:
        """Fit on inputs ``X`` (``c`` may be 0), targets ``y`` and non-negative row weights."""
        ...
