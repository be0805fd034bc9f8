"""Business coherence of a marketing mix: do the estimates make sense to a marketer?

Each check gives one row with a status and a plain sentence: the sign of every media effect
(from the model and from the robust regressions), ROI inside the range the config calls
plausible, weeks with a negative contribution, effect share far from spend share, and, when the
config names a KPI column (conversions, leads), cost per acquisition and conversion rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._config import MMMConfig

__all__ = ["coherence_checks", "kpi_series"]

# Effect share "far from" spend share: more than twice or under half of it, and 5 points apart.
_SHARE_RATIO = 2.0
_SHARE_GAP = 0.05
# Negative weekly contributions matter when they add up to this share of the channel's total.
_NEGATIVE_MASS = 0.01
# Week-to-week variation of target per KPI unit above which CPA by average value is rough.
_VALUE_CV = 0.5

_COLUMNS = ["check", "channel", "status", "value", "sentence"]


def kpi_series(data: pd.DataFrame, config: MMMConfig) -> np.ndarray:
    """The ``kpi_column`` of ``data`` in date order (the order of the fitted weeks).

    Raises:
        ValueError: the column is missing, not numeric, not finite or negative (the message
            names the column and the first bad row).
    """
    col = config.kpi_column
    if col is None:
        raise ValueError("the config names no kpi_column")
    if col not in data.columns:
        raise ValueError(f"kpi_column {col!r} is not a column of the data; columns are {list(map(str, data.columns))}")
    values = pd.to_numeric(data[col], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"column {col!r}, row {i}: {data[col].iloc[i]!r} is not a non-negative number"
            + (f" ({bad.size} rows in all)" if bad.size > 1 else "")
        )
    order = np.argsort(pd.to_datetime(data[config.date]).to_numpy(), kind="stable")
    return values[order]


def _row(check, channel, status, value, sentence) -> dict:
    return {"check": check, "channel": channel, "status": status, "value": value, "sentence": sentence}


def _money(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def coherence_checks(
    results,
    config: MMMConfig,
    *,
    variant: str = "augmented",
    data: pd.DataFrame | None = None,
    diagnostics=None,
) -> pd.DataFrame:
    """Business coherence of one variant's KPIs, one plain sentence per check.

    Args:
        results: :class:`MMMResults` of a fitted model.
        config: the run's config (``roi_range``, ``kpi_column``, names).
        variant: which variant's KPIs to check (``"augmented"`` or ``"observed"``).
        data: the weekly data, needed when ``config.kpi_column`` is set.
        diagnostics: a :class:`Diagnostics`; adds the sign of each channel's robust regression
            coefficient (linear form) on the observed and on the augmented rows.

    Returns:
        DataFrame ``check, channel, status, value, sentence``; ``status`` is ``ok``, ``uncertain``
        (the interval does not settle it) or ``flag`` (not coherent as estimated); flags first.

    Example:
        >>> from causalda_jax.mmm import MMMResults
        >>> s = pd.DataFrame({"variant": "augmented", "channel": ["tv", "radio"], "spend": [80.0, 20.0],
        ...                   "spend_share": [0.8, 0.2], "contribution": [120.0, -5.0], "effect_share": [1.0, 0.0],
        ...                   "roi": [1.5, -0.25], "roi_lower": [1.1, -0.6], "roi_upper": [1.9, 0.1],
        ...                   "mroi": [1.0, -0.2], "mroi_lower": [0.5, -0.5], "mroi_upper": [1.5, 0.1]})
        >>> res = MMMResults(contributions=pd.DataFrame(columns=["variant", "channel", "contribution"]),
        ...                  summary=s, response=pd.DataFrame(), fit=pd.DataFrame())
        >>> cfg = MMMConfig(target="sales", channels=("tv", "radio"), roi_range={"tv": [0.5, 5]})
        >>> checks = coherence_checks(res, cfg)
        >>> checks.loc[0, "sentence"]
        'radio: the estimated effect is negative (ROI -0.25, interval -0.6 to 0.1): more spend would lower sales, which media cannot plausibly do.'
        >>> checks.loc[checks["check"] == "roi range", "status"].tolist()
        ['ok']
    """
    s = results.summary[results.summary["variant"] == variant].set_index("channel")
    if s.empty:
        raise ValueError(f"no KPIs for variant {variant!r}; variants are {sorted(set(results.summary['variant']))}")
    contrib = results.contributions[results.contributions["variant"] == variant]
    target = config.target
    rows = []
    for ch, r in s.iterrows():
        roi, lo, hi = float(r["roi"]), float(r["roi_lower"]), float(r["roi_upper"])
        has_band = np.isfinite(lo) and np.isfinite(hi)
        band = f", interval {lo:.2g} to {hi:.2g}" if has_band else ""
        # Sign of the media effect.
        if roi < 0:
            rows.append(_row("sign", ch, "flag", roi,
                             f"{ch}: the estimated effect is negative (ROI {roi:.2g}{band}): more spend would lower "
                             f"{target}, which media cannot plausibly do."))
        elif has_band and lo <= 0:
            rows.append(_row("sign", ch, "uncertain", roi,
                             f"{ch}: the effect is positive (ROI {roi:.2g}) but its interval reaches zero "
                             f"({lo:.2g} to {hi:.2g}): the data do not show that {ch} works."))
        else:
            rows.append(_row("sign", ch, "ok", roi, f"{ch}: positive effect (ROI {roi:.2g}{band})."))
        # ROI inside the plausible range.
        if config.roi_range and ch in config.roi_range:
            low, high = config.roi_range[ch]
            if low <= roi <= high:
                status, how = "ok", "inside"
            else:
                status, how = "flag", "outside"
            rows.append(_row("roi range", ch, status, roi,
                             f"{ch}: ROI {roi:.2g} is {how} the plausible range {low:g} to {high:g}"
                             + (f" (interval {lo:.2g} to {hi:.2g})." if has_band else ".")))
        # Negative weekly contributions.
        c = contrib.loc[contrib["channel"] == ch, "contribution"].to_numpy(np.float64)
        if c.size:
            neg = c < 0
            mass = -c[neg].sum() / max(np.abs(c).sum(), 1e-300)
            if mass > _NEGATIVE_MASS:
                rows.append(_row("negative weeks", ch, "flag", int(neg.sum()),
                                 f"{ch}: {int(neg.sum())} of {c.size} weeks have a negative contribution (lowest "
                                 f"{_money(c.min())}, {100 * mass:.0f}% of the channel's absolute total)."))
            else:
                rows.append(_row("negative weeks", ch, "ok", int(neg.sum()),
                                 f"{ch}: no week with a material negative contribution."))
        # Effect share against spend share.
        es, ss = float(r["effect_share"]), float(r["spend_share"])
        if np.isfinite(es) and ss > 0:
            ratio = es / ss
            far = abs(es - ss) > _SHARE_GAP and (ratio > _SHARE_RATIO or ratio < 1 / _SHARE_RATIO)
            rows.append(_row("share", ch, "flag" if far else "ok", ratio,
                             f"{ch}: {100 * es:.0f}% of the media effect for {100 * ss:.0f}% of the spend"
                             + (f" ({ratio:.1f} times its spend share): a gap this large deserves a second "
                                "source before budget moves on it." if far else ".")))
    if diagnostics is not None:
        reg = diagnostics.regression
        reg = reg[(reg["form"] == "linear") & (reg["role"] == "channel")]
        for (v, ch), r in reg.set_index(["variant", "term"]).iterrows():
            if r["coef"] < 0 and r["p_value"] < 0.05:
                rows.append(_row("regression sign", ch, "flag", r["coef"],
                                 f"{ch}: the linear regression on the {v} rows gives a significantly negative "
                                 f"coefficient ({r['coef']:.2g}, t = {r['t']:.1f})."))
            else:
                rows.append(_row("regression sign", ch, "ok", r["coef"],
                                 f"{ch}: the linear regression on the {v} rows gives {r['coef']:.2g} "
                                 f"(t = {r['t']:.1f}), not significantly negative."))
    if config.kpi_column is not None:
        if data is None:
            raise ValueError(f"config names kpi_column {config.kpi_column!r}; pass the data to check it")
        rows += _kpi_rows(results, config, s, kpi_series(data, config), data)
    out = pd.DataFrame(rows, columns=_COLUMNS)
    order = out["status"].map({"flag": 0, "uncertain": 1, "ok": 2})
    return out.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def _kpi_rows(results, config, s, kpi, data) -> list[dict]:
    kpi_name, target = config.kpi_column, config.target
    fit = results.fit[results.fit["variant"] == s["variant"].iloc[0]]
    actual = fit["actual"].to_numpy(np.float64)
    if len(kpi) != len(actual):
        raise ValueError(f"kpi_column {kpi_name!r} has {len(kpi)} rows; the model has {len(actual)} weeks")
    rows = []
    if kpi.sum() <= 0:
        return [_row("cpa", "all", "flag", np.nan, f"{kpi_name} is zero in every week: no cost per acquisition.")]
    value = actual.sum() / kpi.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        weekly = np.where(kpi > 0, actual / kpi, np.nan)
    cv = float(np.nanstd(weekly) / np.nanmean(weekly)) if np.isfinite(weekly).any() else np.nan
    rows.append(_row("value per " + kpi_name, "all", "flag" if not cv <= _VALUE_CV else "ok", value,
                     f"Each unit of {kpi_name} comes with {_money(value)} of {target} on average (week-to-week variation "
                     f"{100 * cv:.0f}%); cost per acquisition below assumes every channel's {target} converts at "
                     "this rate" + (", which these weeks do not support." if not cv <= _VALUE_CV else ".")))
    for ch, r in s.iterrows():
        acquired = float(r["contribution"]) / value
        if acquired <= 0:
            rows.append(_row("cpa", ch, "flag", np.nan,
                             f"{ch}: no {kpi_name} attributable (effect not positive), so no cost per acquisition."))
            continue
        cpa = float(r["spend"]) / acquired
        rows.append(_row("cpa", ch, "flag" if cpa > value else "ok", cpa,
                         f"{ch}: {_money(acquired)} {kpi_name} attributable; cost per acquisition {_money(cpa)}, "
                         + ("more" if cpa > value else "less")
                         + f" than the {_money(value)} of {target} each acquisition brings."))
    for med in config.mediators:
        traffic = pd.to_numeric(data[med], errors="coerce").to_numpy(np.float64)
        if np.isfinite(traffic).all() and traffic.sum() > 0:
            rate = kpi.sum() / traffic.sum()
            rows.append(_row("conversion rate", med, "flag" if rate > 1 else "ok", rate,
                             f"{kpi_name} per unit of {med}: {rate:.3g}"
                             + (", above 1: more conversions than visits, so the columns do not measure what "
                                "their names say." if rate > 1 else ".")))
    return rows
