"""Validation and numeric encoding of a user's table at the host boundary."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._graph import CausalGraph

__all__ = ["Table", "frame_from_rows", "prepare_table"]


@dataclass(frozen=True)
class Table:
    """A validated table: float64 values (category codes for categorical columns).

    Attributes:
        columns: column names in the user's order.
        values: ``(n, d)`` float64 array; categorical columns hold integer codes.
        is_categorical: ``(d,)`` bool array.
    """

    columns: tuple
    values: np.ndarray
    is_categorical: np.ndarray

    @property
    def n(self) -> int:
        return self.values.shape[0]

    @property
    def d(self) -> int:
        return self.values.shape[1]


def _is_auto_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def prepare_table(
    data: pd.DataFrame,
    graph: CausalGraph,
    categorical: Iterable[Hashable] | None = None,
    *,
    min_rows: int = 2,
) -> Table:
    """Check ``data`` against ``graph`` and encode it as float64 values.

    Categorical columns are pandas category/object/string/bool columns plus any named in
    ``categorical``; they are encoded as integer codes and compared by exact match.

    Raises:
        TypeError: ``data`` is not a DataFrame.
        ValueError: columns and graph nodes differ, fewer than ``min_rows`` rows, missing or
            infinite values, or a non-numeric column not declared categorical.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    graph.check_columns(data.columns)
    n = len(data)
    if n < min_rows:
        raise ValueError(f"data has {n} row(s); at least {min_rows} are needed to estimate kernel conditionals")
    declared = list(categorical or ())
    unknown = [str(c) for c in declared if c not in data.columns]
    if unknown:
        raise ValueError(f"categorical= names columns that are not in the data: {unknown}")
    declared_set = set(declared)
    values = np.empty((n, data.shape[1]), dtype=np.float64)
    is_cat = np.zeros(data.shape[1], dtype=bool)
    for j, name in enumerate(data.columns):
        col = data[name]
        if col.isna().any():
            rows = list(data.index[col.isna().to_numpy()][:5])
            raise ValueError(
                f"column {name!r} has {int(col.isna().sum())} missing value(s) (first at index {rows}); "
                "impute or drop those rows before augmenting"
            )
        if name in declared_set or _is_auto_categorical(col):
            codes, _ = pd.factorize(col, sort=True)
            values[:, j] = codes
            is_cat[j] = True
            continue
        if not pd.api.types.is_numeric_dtype(col.dtype):
            raise ValueError(
                f"column {name!r} has non-numeric dtype {col.dtype}; convert it to numbers or declare it "
                f"with categorical=[{name!r}]"
            )
        arr = col.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(arr)
        if bad.any():
            first = data.index[np.flatnonzero(bad)[:5]].tolist()
            raise ValueError(
                f"column {name!r} has {int(bad.sum())} infinite value(s) (first at index {first}); "
                "replace or drop them before augmenting"
            )
        values[:, j] = arr
    return Table(columns=tuple(data.columns), values=values, is_categorical=is_cat)


def frame_from_rows(data: pd.DataFrame, index_rows: np.ndarray) -> pd.DataFrame:
    """Look up ``data``'s values by training-row index, column by column.

    Row ``r`` of the result holds ``data[col].iloc[index_rows[r, j]]`` in column ``j``; names,
    order, dtypes and categories are those of ``data``.
    """
    return pd.DataFrame(
        {col: data[col].take(index_rows[:, j]).reset_index(drop=True) for j, col in enumerate(data.columns)},
        columns=data.columns,
    )
