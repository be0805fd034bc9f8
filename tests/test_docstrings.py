"""Every docstring example in the package runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import causalda_jax

# Modules whose examples run code that mixes dtypes implicitly (see PROMOTION_REASONS in conftest.py).
STANDARD_PROMOTION = {
    "causalda_jax.discovery._dagma": "optax",
    "causalda_jax.discovery._discover": "optax",
    "causalda_jax.discovery._plot": "optax",
    "causalda_jax.estimators._mdn": "optax",
    "causalda_jax.mmm._bayes": "optax",
    "causalda_jax.mmm._budget": "optax",
    "causalda_jax.models._mlp": "optax",
    "causalda_jax.models._training": "optax",
}

# Modules whose examples take over 15 s (they compile and fit).
SLOW = {
    "causalda_jax._augmented_data", "causalda_jax._differentiable", "causalda_jax._kernels",
    "causalda_jax._sample", "causalda_jax._stream", "causalda_jax.discovery._dagma",
    "causalda_jax.discovery._discover", "causalda_jax.estimators._anm", "causalda_jax.estimators._mdn",
    "causalda_jax.estimators._regressors", "causalda_jax.mmm._bayes", "causalda_jax.mmm._budget",
    "causalda_jax.models._mlp",
}

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(causalda_jax.__path__, prefix="causalda_jax.")
    if not m.name.endswith("_cli") and ".__main__" not in m.name
)


def _marks(name):
    marks = [pytest.mark.slow] if name in SLOW else []
    if name in STANDARD_PROMOTION:
        marks.append(pytest.mark.standard_promotion(STANDARD_PROMOTION[name]))
    return marks


@pytest.mark.parametrize("name", [pytest.param(m, marks=_marks(m)) for m in MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"


def test_marked_modules_exist():
    assert set(STANDARD_PROMOTION) | SLOW <= set(MODULES)
