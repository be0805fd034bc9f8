"""Type aliases shared across the package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Union

from jaxtyping import Array, Bool, Float, Int

BandwidthSpec = Union[str, float, Mapping[str, Union[str, float]]]
"""A bandwidth rule name, one bandwidth for every column, or a per-column mapping."""

__all__ = ["Array", "Bool", "Float", "Int", "BandwidthSpec"]
