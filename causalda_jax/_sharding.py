"""A one-axis device mesh for splitting a batch axis (samples, candidate rows) across devices."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["BATCH_AXIS", "batch_mesh", "batch_sharding", "pad_to_multiple"]

BATCH_AXIS = "batch"
"""Name of the mesh axis along which batches are split."""

def batch_mesh(devices: int | Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh over ``devices`` with the axis :data:`BATCH_AXIS`.

    Args:
        devices: ``None`` for every local device of the default backend (this process's, in a
            ``jax.distributed`` job), an int ``k`` for the first ``k`` of them, or an explicit
            sequence of devices.

    Raises:
        ValueError: ``k`` is not between 1 and the number of available devices, or the
            sequence is empty.

    Example:
        >>> batch_mesh(1).shape["batch"]
        1
    """
    available = jax.local_devices()
    if devices is None:
        chosen = list(available)
    elif isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        if not 1 <= int(devices) <= len(available):
            raise ValueError(
                f"devices={int(devices)} but {len(available)} device(s) are available; pass a number between "
                f"1 and {len(available)}, or None for all"
            )
        chosen = list(available[: int(devices)])
    else:
        try:
            chosen = list(devices)
        except TypeError:
            raise TypeError(
                f"devices must be None, an int or a sequence of jax devices, got {type(devices).__name__}"
            ) from None
        if not chosen or not all(isinstance(dev, jax.Device) for dev in chosen):
            raise ValueError("devices must be a non-empty sequence of jax devices (e.g. jax.devices()[:2])")
    return Mesh(np.array(chosen), (BATCH_AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Split the leading axis of an array over the mesh's devices (the rest replicated)."""
    return NamedSharding(mesh, PartitionSpec(BATCH_AXIS))


def pad_to_multiple(size: int, multiple: int) -> int:
    """The least multiple of ``multiple`` that is ≥ ``size`` (and ≥ ``multiple``).

    Example:
        >>> pad_to_multiple(10, 4), pad_to_multiple(0, 4)
        (12, 4)
    """
    return max(1, -(-int(size) // int(multiple))) * int(multiple)
