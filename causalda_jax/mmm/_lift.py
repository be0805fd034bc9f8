"""Lift tests: measured incremental sales of a channel over a window, and what a model predicts for them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["LiftTest", "parse_lift_tests", "lift_window", "predicted_lift", "lift_check"]

_KEYS = ("channel", "start", "end", "lift", "sd")


class LiftTest(NamedTuple):
    """An experiment: the channel's spend in ``[start, end]`` caused ``lift`` ± ``sd`` extra target there.

    ``lift`` is the target summed over the window's weeks with the observed spends minus the
    same sum with the channel switched off in the window (spend before the window keeps
    carrying over), mediated effects included.
    """

    channel: str
    start: pd.Timestamp
    end: pd.Timestamp
    lift: float
    sd: float


def parse_lift_tests(rows: Sequence, channels: Sequence[str]) -> tuple:
    """Check and convert lift-test rows (mappings or sequences of channel, start, end, lift, sd).

    Raises:
        ValueError: naming the row and the problem (unknown channel, unparsable date,
            end before start, non-finite lift, non-positive sd).

    Example:
        >>> parse_lift_tests([{"channel": "tv", "start": "2024-01-07", "end": "2024-02-04", "lift": 50, "sd": 10}], ["tv"])[0].sd
        10.0
    """
    out = []
    for i, row in enumerate(rows or ()):
        if isinstance(row, LiftTest):
            row = row._asdict()
        if isinstance(row, Mapping):
            missing = [k for k in _KEYS if k not in row]
            unknown = sorted(set(row) - set(_KEYS))
            if missing or unknown:
                raise ValueError(f"lift_tests row {i}: needs keys {list(_KEYS)}; missing {missing}, unknown {unknown}")
            values = [row[k] for k in _KEYS]
        else:
            values = list(row)
            if len(values) != 5:
                raise ValueError(f"lift_tests row {i}: give [channel, start, end, lift, sd]; got {values}")
        channel, start, end, lift, sd = values
        if channel not in channels:
            raise ValueError(f"lift_tests row {i}: channel {channel!r} is not one of the channels {list(channels)}")
        try:
            start, end = pd.Timestamp(start), pd.Timestamp(end)
        except (ValueError, TypeError):
            raise ValueError(f"lift_tests row {i} ({channel}): start {start!r} / end {end!r} must be dates") from None
        if end < start:
            raise ValueError(f"lift_tests row {i} ({channel}): end {end.date()} is before start {start.date()}")
        try:
            lift, sd = float(lift), float(sd)
        except (ValueError, TypeError):
            raise ValueError(f"lift_tests row {i} ({channel}): lift {lift!r} and sd {sd!r} must be numbers") from None
        if not np.isfinite(lift):
            raise ValueError(f"lift_tests row {i} ({channel}): lift must be finite; got {lift}")
        if not (np.isfinite(sd) and sd > 0):
            raise ValueError(f"lift_tests row {i} ({channel}): sd must be positive; got {sd}")
        out.append(LiftTest(channel, start, end, lift, sd))
    return tuple(out)


def lift_window(dates: pd.Series, test: LiftTest) -> np.ndarray:
    """0/1 mask of the observed weeks inside the test's window.

    Raises:
        ValueError: when the window reaches outside the observed weeks (the model cannot
            predict a week it has not seen).
    """
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    first, last = d.min(), d.max()
    if test.start < first or test.end > last:
        raise ValueError(
            f"lift test on {test.channel!r} from {test.start.date()} to {test.end.date()} is outside the data "
            f"({first.date()} to {last.date()}); give a window within the observed weeks"
        )
    mask = np.asarray((d >= test.start) & (d <= test.end), np.float64)
    if not mask.any():
        raise ValueError(f"lift test on {test.channel!r} from {test.start.date()} to {test.end.date()} contains no week")
    return mask


def predicted_lift(model, spend: np.ndarray, mask: np.ndarray, channel: int) -> float:
    """A model's lift for switching ``channel`` off where ``mask`` is 1 (summed over those weeks).

    ``model`` is anything with ``predict(spends (s, t, c)) -> (s, t)``.
    """
    spend = np.asarray(spend, np.float64)
    off = spend.copy()
    off[:, channel] *= 1.0 - mask
    on, without = model.predict(np.stack([spend, off]))
    return float(((on - without) * mask).sum())


def lift_check(model, spend: np.ndarray, dates: pd.Series, channels: Sequence[str], tests: Sequence[LiftTest]) -> pd.DataFrame:
    """Measured vs predicted lift per test: ``channel, start, end, lift, sd, predicted, z``."""
    rows = []
    for t in tests:
        pred = predicted_lift(model, spend, lift_window(dates, t), list(channels).index(t.channel))
        rows.append({**t._asdict(), "predicted": pred, "z": (pred - t.lift) / t.sd})
    return pd.DataFrame(rows, columns=[*_KEYS, "predicted", "z"])
