"""Checking a user's weekly table and turning it into the model's feature table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._config import MMMConfig
from ._simulate import seasonality_features

__all__ = ["check_spend_variation", "validate_weekly", "feature_table", "min_weeks"]


def min_weeks(n_channels: int, n_other: int = 0) -> int:
    """Fewest weeks accepted: 8 per channel plus 2 per other variable, and at least 20."""
    return max(20, 8 * n_channels + 2 * n_other)


def validate_weekly(data: pd.DataFrame, config: MMMConfig) -> pd.DataFrame:
    """Check a weekly marketing table and return a clean copy sorted by date.

    Checks, each failing with a message that names the column and the row: the date column
    exists and parses; no duplicated dates; the weeks are evenly spaced by 7 days (a missing
    week is named); every configured column exists; values are numeric and finite; spends
    are non-negative; there are enough weeks for the number of channels; every channel's spend
    varies and no channel's spend is a fixed combination of others' (:func:`check_spend_variation`).

    Args:
        data: one row per week.
        config: names of the date, target, channel, control and mediator columns.

    Returns:
        A new DataFrame with the date parsed, rows sorted by date, float columns, and only
        the configured columns.

    Example:
        >>> from causalda_jax.mmm import simulate
        >>> sim = simulate(weeks=60, channels=3)
        >>> cfg = MMMConfig(target="sales", channels=("tv", "radio", "social"))
        >>> validate_weekly(sim.data, cfg).shape
        (60, 5)
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    _run(_COLUMN_CHECKS + _VALUE_CHECKS, data, config)
    parsed = _parsed(data, config)
    _run(_ROW_CHECKS, parsed, config)
    weekly = parsed.sort_values(config.date, kind="stable").reset_index(drop=True)
    _run(_SERIES_CHECKS, weekly, config)
    return weekly


def _run(checks, table: pd.DataFrame, config: MMMConfig) -> None:
    for check in checks:
        check(table, config)


def _model_columns(config: MMMConfig) -> list:
    return [config.target, *config.channels, *config.controls, *config.mediators]


def _rows_in_all(bad: np.ndarray) -> str:
    return f" ({bad.size} rows in all)" if bad.size > 1 else ""


def _parsed(data: pd.DataFrame, config: MMMConfig) -> pd.DataFrame:
    """The configured columns in the user's row order: the date parsed, the rest as float."""
    out = pd.DataFrame(index=range(len(data)))
    out[config.date] = pd.to_datetime(data[config.date].reset_index(drop=True), errors="coerce")
    for c in _model_columns(config):
        out[c] = pd.to_numeric(data[c].reset_index(drop=True), errors="coerce").astype(np.float64)
    return out


# -- on the raw table: the columns the config names


def _date_column_present(data: pd.DataFrame, config: MMMConfig) -> None:
    if config.date not in data.columns:
        raise ValueError(
            f"date column {config.date!r} is not in the file; columns are {list(map(str, data.columns))}. "
            "Set 'date' in the config to the name of the week column"
        )


def _channels_present(data: pd.DataFrame, config: MMMConfig) -> None:
    absent_channels = [c for c in config.channels if c not in data.columns]
    if absent_channels:
        raise ValueError(
            f"channels {absent_channels} are not columns of the file; columns are {list(map(str, data.columns))}"
        )


def _config_columns_present(data: pd.DataFrame, config: MMMConfig) -> None:
    absent = [c for c in _model_columns(config) if c not in data.columns]
    if absent:
        raise ValueError(f"columns {absent} from the config are not in the file; columns are {list(map(str, data.columns))}")


_COLUMN_CHECKS = (_date_column_present, _channels_present, _config_columns_present)


# -- on the raw table: every value readable


def _dates_parse(data: pd.DataFrame, config: MMMConfig) -> None:
    raw_dates = data[config.date].reset_index(drop=True)
    bad = np.flatnonzero(pd.to_datetime(raw_dates, errors="coerce").isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"column {config.date!r}, row {i}: {raw_dates.iloc[i]!r} is not a date" + _rows_in_all(bad))


def _values_numeric_and_finite(data: pd.DataFrame, config: MMMConfig) -> None:
    for c in _model_columns(config):
        values = data[c].reset_index(drop=True)
        numeric = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero(numeric.isna().to_numpy())
        if bad.size:
            i = int(bad[0])
            kind = "is missing" if pd.isna(values.iloc[i]) else f"{values.iloc[i]!r} is not a number"
            raise ValueError(f"column {c!r}, row {i}: {kind}" + _rows_in_all(bad) + "; fill or drop it")
        inf = np.flatnonzero(~np.isfinite(numeric.astype(np.float64).to_numpy()))
        if inf.size:
            raise ValueError(f"column {c!r}, row {int(inf[0])}: value is infinite")


_VALUE_CHECKS = (_dates_parse, _values_numeric_and_finite)


# -- on the parsed table, rows in the user's order (the messages name those rows)


def _spends_non_negative(table: pd.DataFrame, config: MMMConfig) -> None:
    for c in config.channels:
        neg = np.flatnonzero(table[c].to_numpy() < 0)
        if neg.size:
            i = int(neg[0])
            raise ValueError(
                f"channel {c!r}, row {i} ({table[config.date].iloc[i].date()}): spend {table[c].iloc[i]} is negative; "
                "spends must be >= 0" + _rows_in_all(neg)
            )


def _dates_unique(table: pd.DataFrame, config: MMMConfig) -> None:
    dates = table[config.date]
    dup = dates.duplicated(keep=False).to_numpy()
    if dup.any():
        first = dates.iloc[int(np.flatnonzero(dup)[0])]
        same = np.flatnonzero((dates == first).to_numpy())
        raise ValueError(
            f"column {config.date!r}: date {first.date()} appears in rows {same.tolist()}; keep one row per week"
        )


_ROW_CHECKS = (_spends_non_negative, _dates_unique)


# -- on the table sorted by date


def _weeks_evenly_spaced(weekly: pd.DataFrame, config: MMMConfig) -> None:
    gaps = weekly[config.date].diff().dt.days.to_numpy()[1:]
    wrong = np.flatnonzero(gaps != 7)
    if not wrong.size:
        return
    i = int(wrong[0]) + 1
    prev, cur = weekly[config.date].iloc[i - 1], weekly[config.date].iloc[i]
    if gaps[i - 1] % 7 == 0:
        missing = pd.date_range(prev, cur, freq="7D")[1:-1]
        raise ValueError(
            f"column {config.date!r}: {len(missing)} week(s) missing between {prev.date()} and {cur.date()} "
            f"(first missing {missing[0].date()}); add the missing weeks (zero spend if nothing ran)"
        )
    raise ValueError(
        f"column {config.date!r}: {prev.date()} and {cur.date()} are {gaps[i - 1]} days apart; "
        "dates must be weekly, 7 days apart"
    )


def _enough_weeks(weekly: pd.DataFrame, config: MMMConfig) -> None:
    n_other = len(config.controls) + len(config.mediators)
    need = min_weeks(len(config.channels), n_other)
    if len(weekly) < need:
        raise ValueError(
            f"{len(weekly)} weeks is too few for {len(config.channels)} channels and "
            f"{n_other} other variables; need at least {need} weeks"
        )


def _channels_have_spend(weekly: pd.DataFrame, config: MMMConfig) -> None:
    flat = [c for c in config.channels if weekly[c].sum() == 0]
    if flat:
        raise ValueError(f"channels {flat} never have any spend; drop them from 'channels'")


def _spends_vary(weekly: pd.DataFrame, config: MMMConfig) -> None:
    check_spend_variation(weekly[list(config.channels)])


_SERIES_CHECKS = (_weeks_evenly_spaced, _enough_weeks, _channels_have_spend, _spends_vary)


# A channel whose spend varies by less than this fraction of its mean (coefficient of
# variation) leaves its effect indistinguishable from the baseline.
MIN_SPEND_VARIATION = 1e-3
# Spend patterns this close to linearly dependent (smallest singular value of the standardised
# spends over the largest) cannot be split into per-channel effects.
MIN_SPEND_CONDITION = 1e-6


def check_spend_variation(spend: pd.DataFrame) -> None:
    """Refuse channels whose effects the data cannot identify.

    A channel with (near-)constant spend, or a channel whose spend is a linear combination of
    other channels' (two channels always bought together, say), would still get an ROI, a
    marginal ROI and a budget share from the model, but none of them would come from the data.

    Args:
        spend: one column per channel, one row per week.

    Raises:
        ValueError: naming the channel (or channels) and what to do.

    Example:
        >>> import pandas as pd
        >>> check_spend_variation(pd.DataFrame({"tv": [1.0, 3.0, 2.0], "radio": [5.0, 5.0, 5.0]}))
        Traceback (most recent call last):
        ...
        ValueError: channel 'radio' spends 5 every week...
    """
    values = spend.to_numpy(np.float64)
    mean = values.mean(axis=0)
    sd = values.std(axis=0)
    for j, c in enumerate(spend.columns):
        if sd[j] <= MIN_SPEND_VARIATION * abs(mean[j]):
            level = f"spends {mean[j]:.6g} every week" if sd[j] == 0 else (
                f"barely varies (standard deviation {sd[j]:.3g} around {mean[j]:.6g})")
            raise ValueError(
                f"channel {c!r} {level}, so the data cannot tell its effect from the baseline: its ROI, "
                "marginal ROI and budget share would be guesses. Drop it from 'channels' (its spend can go "
                "in 'controls' only if it varies), or use data in which its spend changes"
            )
    if values.shape[1] < 2:
        return
    z = (values - mean) / sd
    _, singular, vt = np.linalg.svd(z, full_matrices=False)
    if singular[-1] <= MIN_SPEND_CONDITION * singular[0]:
        weights = vt[-1]
        involved = [str(spend.columns[j]) for j in np.flatnonzero(np.abs(weights) > 1e-3 * np.abs(weights).max())]
        kind = "move together exactly" if len(involved) == 2 else "are linearly dependent"
        raise ValueError(
            f"channels {involved} {kind} (each is a fixed combination of the others every week), so the "
            "data cannot split the effect between them: combine them into one channel or drop all but one"
        )


def feature_table(weekly: pd.DataFrame, config: MMMConfig, decays: dict) -> pd.DataFrame:
    """The variables the graph, the augmentation and the models work on, one row per week.

    Columns: ``trend``, ``season_sin``, ``season_cos`` (when ``config.seasonality``), the
    controls, every channel as its geometrically adstocked spend (named after the channel),
    the mediators, then the target. Adstocking here makes each week a self-contained row, so
    rows can be resampled or augmented while carry-over stays in the features.
    """
    parts = []
    if config.seasonality:
        parts.append(seasonality_features(weekly[config.date]))
    parts.append(weekly[list(config.controls)].reset_index(drop=True))
    spend = weekly[list(config.channels)].to_numpy(np.float64)
    stock = adstock_matrix(spend, [decays[c] for c in config.channels])
    parts.append(pd.DataFrame(stock, columns=list(config.channels)))
    parts.append(weekly[list(config.mediators) + [config.target]].reset_index(drop=True))
    return pd.concat(parts, axis=1)


def adstock_matrix(spend: np.ndarray, decays) -> np.ndarray:
    """Geometric adstock of a ``(..., t, c)`` spend array, in float64 on the host.

    Same recursion as :func:`~causalda_jax.mmm.geometric_adstock`. Done in numpy because the
    scenario batches change size from call to call (a jitted scan would recompile for each)
    and float64 keeps rounding out of KPIs, which are differences of predictions.
    """
    spend = np.asarray(spend, np.float64)
    decays = np.asarray(decays, np.float64)
    out = np.empty_like(spend)
    carry = np.zeros(spend.shape[:-2] + spend.shape[-1:])
    for t in range(spend.shape[-2]):
        carry = spend[..., t, :] + decays * carry
        out[..., t, :] = carry
    return out
