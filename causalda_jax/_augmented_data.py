"""The result of an augmentation: weighted rows drawn from the training values, with provenance."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import pandas as pd

from ._graph import CausalGraph
from ._sample_weight import effective_sample_size
from ._tabular import frame_from_rows

__all__ = ["AugmentedData", "merge_index_rows"]

_WEIGHT = "__causalda_weight__"
_LOG_WEIGHT = "__causalda_log_weight__"
_SOURCE = "__causalda_source__:"
_META_KEY = b"causalda_jax"
_SAVE_SUFFIXES = (".parquet", ".pq", ".npz")


def merge_index_rows(
    values: np.ndarray, index_rows: np.ndarray, log_weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Merge rows whose values are identical, adding their weights.

    Rows are given as training-row indices per column. Two index rows are the same data row
    when every column's training values are equal, even if they came from different training
    rows; the merged row keeps, per column, the first training row holding that value.

    Args:
        values: ``(n, d)`` training values.
        index_rows: ``(m, d)`` training-row index of each value.
        log_weights: ``(m,)`` log-weights.

    Returns:
        ``(source_rows, log_weights)`` of the merged rows, sorted by value (column by column).
    """
    m, d = index_rows.shape
    if m == 0:
        return np.zeros((0, d), dtype=np.int64), np.zeros(0, dtype=np.float64)
    codes = np.empty((m, d), dtype=np.int64)
    canonical = np.empty((m, d), dtype=np.int64)
    for j in range(d):
        _, first, inverse = np.unique(values[:, j], return_index=True, return_inverse=True)
        codes[:, j] = inverse[index_rows[:, j]]
        canonical[:, j] = first[codes[:, j]]
    # Sorting by log-weight inside each group fixes the summation order, so the merged weights
    # do not depend on the order in which rows arrive (one device or several).
    order = np.lexsort((log_weights, *codes.T[::-1]))
    codes = codes[order]
    starts = np.flatnonzero(np.r_[True, np.any(codes[1:] != codes[:-1], axis=1)])
    lw = log_weights[order]
    peak = np.maximum.reduceat(lw, starts)
    finite_peak = np.where(np.isfinite(peak), peak, 0.0)
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, m]))
    with np.errstate(divide="ignore"):
        merged = finite_peak + np.log(np.add.reduceat(np.exp(lw - finite_peak[group]), starts))
    return canonical[order][starts], merged


@dataclass
class AugmentedData:
    """Weighted augmented rows.

    Attributes:
        data: DataFrame with the original column names, order, dtypes and categories.
        weights: ``(m,)`` float64 weights; they sum to at most 1 (to 1 with no pruning).
        log_weights: ``(m,)`` natural logs of the weights, exact where ``weights`` underflow.
        source_rows: ``(m, d)`` for each value, the training row (position) it came from.
        graph: the causal graph used.
        config: the settings used (threshold, kernel, bandwidths, ...).

    Example:
        >>> import pandas as pd, causalda_jax as cda
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.1, 1.2, 1.9]})
        >>> aug = cda.augment(df, cda.CausalGraph(["x", "y"], [("x", "y")]), threshold=0.0)
        >>> len(aug), round(float(aug.weights.sum()), 12)
        (9, 1.0)
    """

    data: pd.DataFrame
    weights: np.ndarray
    log_weights: np.ndarray
    source_rows: np.ndarray
    graph: CausalGraph
    config: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def mass(self) -> float:
        """Total weight kept (1 minus the pruned mass)."""
        return float(np.sum(self.weights))

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective sample size ``(Σw)² / Σw²`` (0 when empty)."""
        return effective_sample_size(self.weights)

    @classmethod
    def from_index_rows(
        cls,
        train: pd.DataFrame,
        values: np.ndarray,
        index_rows: np.ndarray,
        log_weights: np.ndarray,
        graph: CausalGraph,
        config: dict[str, Any],
    ) -> "AugmentedData":
        """Merge identical rows and look their values up in the training DataFrame."""
        source, merged = merge_index_rows(values, np.asarray(index_rows), np.asarray(log_weights, dtype=np.float64))
        return cls(frame_from_rows(train, source), np.exp(merged), merged, source, graph, dict(config))

    def to_frame(self, weight_column: str = "weight") -> pd.DataFrame:
        """The augmented rows with their weights as one more column."""
        if weight_column in self.data.columns:
            raise ValueError(f"column {weight_column!r} already exists; choose another weight_column")
        out = self.data.copy()
        out[weight_column] = self.weights
        return out

    def save(self, path: Union[str, os.PathLike], *, overwrite: bool = False) -> None:
        """Write to parquet (``.parquet``, ``.pq``) or numpy (``.npz``) without losing anything.

        Column names (of any JSON type), dtypes and categories come back from :meth:`load`
        exactly, empty results included. The file is written under a temporary name and
        renamed when complete.

        Args:
            path: the file; its extension chooses the format (anything else is refused: for a
                CSV, write ``to_frame()`` with pandas).
            overwrite: replace an existing file.

        Raises:
            ValueError: unsupported extension, ``path`` exists (without ``overwrite``) or is a
                folder, or a column name starts with ``__causalda``.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        from ._output import check_output, write_file

        target = check_output(path, overwrite=overwrite, suffixes=_SAVE_SUFFIXES, force_hint="overwrite=True")
        frame = self.data.copy()
        clash = [c for c in frame.columns if str(c).startswith("__causalda")]
        if clash:
            raise ValueError(f"column names starting with '__causalda' are reserved: {clash}")
        frame.columns = [str(c) for c in frame.columns]
        frame[_WEIGHT] = self.weights
        frame[_LOG_WEIGHT] = self.log_weights
        for j, col in enumerate(self.data.columns):
            frame[f"{_SOURCE}{col}"] = self.source_rows[:, j]
        categories = {
            str(c): {"categories": dtype.categories.tolist(), "ordered": bool(dtype.ordered),
                     "dtype": str(dtype.categories.dtype)}
            for c, dtype in self.data.dtypes.items()
            if isinstance(dtype, pd.CategoricalDtype)
        }
        meta = {"graph": self.graph.to_dict(), "config": self.config, "columns": list(self.data.columns),
                "categories": categories}
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if target.suffix.lower() == ".npz":
            buffer = pa.BufferOutputStream()
            pq.write_table(table, buffer)
            write_file(target, lambda tmp: np.savez(
                tmp, parquet=np.frombuffer(buffer.getvalue().to_pybytes(), dtype=np.uint8),
                meta=np.array(json.dumps(meta, default=str))))
            return
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta, default=str)})
        write_file(target, lambda tmp: pq.write_table(table, tmp))

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "AugmentedData":
        """Read what :meth:`save` wrote (the format is read from the file, not its name).

        Raises:
            FileNotFoundError: no such file.
            ValueError: the file is not one that :meth:`save` writes.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = os.fspath(path)
        if os.path.isdir(path):
            raise ValueError(f"{path} is a folder; give the file written by AugmentedData.save")
        try:
            with open(path, "rb") as f:
                magic = f.read(4)
        except FileNotFoundError:
            raise FileNotFoundError(f"no such file: {path}") from None
        if magic == b"PK\x03\x04":
            with np.load(path) as archive:
                if "parquet" not in archive or "meta" not in archive:
                    raise ValueError(f"{path} is an .npz archive not written by AugmentedData.save")
                table = pq.read_table(pa.BufferReader(archive["parquet"].tobytes()))
                meta = json.loads(str(archive["meta"]))
        elif magic == b"PAR1":
            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(_META_KEY)
            if raw is None:
                raise ValueError(f"{path} was not written by AugmentedData.save (no causalda_jax metadata)")
            meta = json.loads(raw)
        else:
            raise ValueError(f"{path} is neither parquet nor .npz, so not written by AugmentedData.save; "
                             "read a CSV with pandas.read_csv")
        frame = table.to_pandas()
        stored = [c for c in frame.columns if not str(c).startswith("__causalda")]
        source = (np.stack([frame[f"{_SOURCE}{c}"].to_numpy(np.int64) for c in stored], axis=1) if stored
                  else np.zeros((len(frame), 0), np.int64))
        data = frame[stored].reset_index(drop=True)
        for col, spec in meta.get("categories", {}).items():
            dtype = pd.CategoricalDtype(pd.Index(spec["categories"], dtype=spec["dtype"]), ordered=spec["ordered"])
            data[col] = data[col].astype(dtype)
        names = meta.get("columns", stored)
        data.columns = names if len(names) == len(stored) else stored
        return cls(
            data,
            frame[_WEIGHT].to_numpy(np.float64),
            frame[_LOG_WEIGHT].to_numpy(np.float64),
            source,
            CausalGraph.from_dict(meta["graph"]),
            meta["config"],
        )

    def __repr__(self) -> str:
        return (
            f"AugmentedData(rows={len(self)}, mass={self.mass:.6g}, "
            f"effective_sample_size={self.effective_sample_size:.6g}, columns={list(self.data.columns)})"
        )
