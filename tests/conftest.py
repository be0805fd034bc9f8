"""Shared fixtures. Exactness checks run under float64 through the ``x64`` fixture."""

import os

# The multi-device tests need several host devices; this must be set before jax is imported.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import jax
import numpy as np
import pytest

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
