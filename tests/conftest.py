"""Shared fixtures and options.

Exactness checks run under float64 through the ``x64`` fixture. Every test, its fixtures included,
runs under JAX's strict dtype promotion, so an implicit int/float or float32/float64 mix in
library code fails loudly; a test marked ``standard_promotion`` runs under the default rules.
Tests marked ``slow`` are deselected unless ``--run-slow`` is given (CI gives it).
"""

import os

# The multi-device tests need several host devices; this must be set before jax is imported.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
# Tests never read or write the user's persistent compilation cache (tests/test_compile_cache.py
# turns it on in subprocesses with a temporary directory).
os.environ["CAUSALDA_NO_COMPILE_CACHE"] = "1"

import jax
import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run the tests marked slow (CI does)")


def pytest_collection_modifyitems(config, items):
    # An explicit -m expression decides on its own; otherwise slow tests need --run-slow.
    if config.getoption("--run-slow") or config.getoption("-m"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


# Why a test may run under standard promotion: code it calls, outside the tests' control, mixes
# dtypes implicitly.
PROMOTION_REASONS = {
    # optax 0.2.8: Adam's bias correction and the schedules compute `decay ** count`, a Python
    # float to the power of the int32 step count.
    "optax",
    # numpyro 0.22: NUTS divides the summed acceptance probabilities by the int proposal count.
    "numpyro",
}


def _promotion(item):
    marks = list(item.iter_markers("standard_promotion"))
    reasons = {a for m in marks for a in m.args}
    assert all(m.args for m in marks) and reasons <= PROMOTION_REASONS, (
        f"standard_promotion needs a reason from tests/conftest.py's PROMOTION_REASONS; got {sorted(reasons)}"
    )
    return jax.numpy_dtype_promotion("standard" if marks else "strict")


# Hooks rather than an autouse fixture, so that module- and session-scoped fixtures, which are set
# up and torn down inside these phases, run under the same rules as the test that needs them.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    with _promotion(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    with _promotion(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    with _promotion(item):
        return (yield)


@pytest.fixture
def x64():
    """Run the test body with 64-bit floats enabled."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def key():
    """A fixed PRNG key."""
    return jax.random.key(0)


@pytest.fixture
def rng():
    """A fixed numpy Generator for building test data."""
    return np.random.default_rng(0)
