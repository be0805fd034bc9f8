"""Validation and numeric encoding of a user's table at the host boundary."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._graph import CausalGraph

__all__ = ["Table", "declared_columns", "frame_from_rows", "prepare_table"]


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


def _is_categorical_dtype(dtype) -> bool:
    return isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype)


def declared_columns(categorical: Hashable | Iterable[Hashable] | None) -> list:
    """The column names given as ``categorical=``: one name (``"tv"``) or an iterable of names.

    Example:
        >>> declared_columns("tv"), declared_columns(["tv", "radio"]), declared_columns(None)
        (['tv'], ['tv', 'radio'], [])
    """
    if categorical is None:
        return []
    if isinstance(categorical, (str, bytes)) or not isinstance(categorical, Iterable):
        return [categorical]
    return list(categorical)


def _numeric_column(name: Hashable, col: pd.Series) -> np.ndarray:
    """float64 values of a column that is not categorical, or a ValueError naming the culprits."""
    dtype = col.dtype
    if pd.api.types.is_complex_dtype(dtype):
        raise ValueError(f"column {name!r} holds complex numbers; split it into real and imaginary columns")
    if pd.api.types.is_numeric_dtype(dtype):
        return col.to_numpy(dtype=np.float64)
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        raise ValueError(
            f"column {name!r} has non-numeric dtype {dtype}; convert it to numbers or declare it "
            f"with categorical=[{name!r}]"
        )
    # Text columns are never taken as categorical silently: a typo in a numeric column would
    # otherwise turn it into an exact-match category and change every weight without a word.
    values = col.to_numpy(dtype=object)
    is_text = np.array([isinstance(v, (str, bytes)) for v in values], dtype=bool)
    if any(isinstance(v, (complex, np.complexfloating)) for v in values):
        raise ValueError(f"column {name!r} holds complex numbers; split it into real and imaginary columns")
    numbers = pd.to_numeric(pd.Series(np.where(is_text, None, values)), errors="coerce").to_numpy(np.float64)
    parsed = pd.to_numeric(pd.Series(values[is_text]), errors="coerce").to_numpy(np.float64)
    bad = is_text.copy()
    bad[is_text] = np.isnan(parsed)
    bad |= ~is_text & np.isnan(numbers)
    if bad.all():
        raise ValueError(
            f"column {name!r} holds text (e.g. {values[0]!r}); declare it with categorical=[{name!r}] "
            "to compare its values by exact match, or convert it to numbers"
        )
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(f"{col.index[i]!r}: {values[i]!r}" for i in rows[:5])
        raise ValueError(
            f"column {name!r} is numeric except {rows.size} value(s) that are not numbers (row: value {shown}"
            + (", ..." if rows.size > 5 else "") + "); fix or drop those rows, or declare the column "
            f"with categorical=[{name!r}]"
        )
    if is_text.any():
        raise ValueError(
            f"column {name!r} stores numbers as text (e.g. {values[np.argmax(is_text)]!r}); convert it with "
            f"pandas.to_numeric, or declare it with categorical=[{name!r}]"
        )
    return numbers


def prepare_table(
    data: pd.DataFrame,
    graph: CausalGraph,
    categorical: Hashable | Iterable[Hashable] | None = None,
    *,
    min_rows: int = 2,
) -> Table:
    """Check ``data`` against ``graph`` and encode it as float64 values.

    A column is categorical only when its dtype says so (pandas ``category`` or ``bool``) or
    ``categorical`` names it; categorical columns are encoded as integer codes and compared by
    exact match. Every other column must hold real numbers: a text column, or a numeric
    column with a few values that are not numbers, is an error naming the rows.

    Raises:
        TypeError: ``data`` is not a DataFrame.
        ValueError: columns and graph nodes differ, fewer than ``min_rows`` rows, missing or
            infinite values, complex values, or a non-numeric column not declared categorical.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    graph.check_columns(data.columns)
    n = len(data)
    if n < min_rows:
        raise ValueError(f"data has {n} row(s); at least {min_rows} are needed to estimate kernel conditionals")
    declared = declared_columns(categorical)
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
        if name in declared_set or _is_categorical_dtype(col.dtype):
            codes, _ = pd.factorize(col, sort=True)
            values[:, j] = codes
            is_cat[j] = True
            continue
        arr = _numeric_column(name, col)
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
