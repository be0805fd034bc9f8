"""What determines a draw of :func:`causalda_jax.sample`, as a JSON-ready record.

Two calls with the same record draw the same rows: the record guards a resumed output
directory and checks that the processes of a ``jax.distributed`` job were given the same call.
Block sizes and devices are left out: they never change the rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Iterable
from typing import Any

import jax
import numpy as np
import pandas as pd

from ._graph import GraphLike, as_graph

__all__ = ["sample_parameters"]


def _data_digest(data: pd.DataFrame) -> str:
    """A digest of the values, column names, order and dtypes (the index is ignored)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in data.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def sample_parameters(
    data: pd.DataFrame,
    graph: GraphLike,
    n_samples: int,
    key: jax.Array,
    *,
    offset: int,
    kernel: str,
    bandwidth: Any,
    bandwidth_scale: float,
    categorical: Iterable[Hashable] | None,
    smoothing: float,
    neighbors: int | None,
    **_block_sizes: Any,
) -> dict[str, Any]:
    """The record of a draw: every argument that changes its rows, JSON-ready.

    Example:
        >>> import jax, pandas as pd
        >>> df = pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 2.0]})
        >>> rec = sample_parameters(df, {"directed": [["x", "y"]]}, 10, jax.random.key(0), offset=0,
        ...     kernel="gaussian", bandwidth="scott", bandwidth_scale=1.0, categorical=None,
        ...     smoothing=0.0, neighbors=None)
        >>> rec["n_samples"], rec["key"]
        (10, [0, 0])
    """
    return {
        "n_samples": int(n_samples),
        "offset": int(offset),
        "key": np.asarray(jax.random.key_data(key)).ravel().tolist(),
        "key_impl": str(jax.random.key_impl(key)),
        "kernel": kernel,
        "bandwidth": json.loads(json.dumps(bandwidth, default=str)),
        "bandwidth_scale": float(bandwidth_scale),
        "categorical": None if categorical is None else sorted(str(c) for c in categorical),
        "smoothing": float(smoothing),
        "neighbors": None if neighbors is None else int(neighbors),
        "graph": {k: sorted(json.dumps(e, default=str) for e in v) for k, v in as_graph(graph).to_dict().items()},
        "data": _data_digest(data),
        "n_rows_data": len(data),
    }
