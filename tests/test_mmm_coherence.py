"""Business coherence checks on hand-built KPIs whose answers are known, and the config fields they read."""

import numpy as np
import pandas as pd
import pytest

from causalda_jax.mmm import MMMConfig, MMMResults, coherence_checks, kpi_series

WEEKS = 10


def _results(contrib_tv, contrib_radio, actual, roi_band=((1.1, 1.9), (-0.6, 0.1))):
    contrib = {"tv": np.asarray(contrib_tv, float), "radio": np.asarray(contrib_radio, float)}
    spend = {"tv": 80.0, "radio": 20.0}
    total = {c: v.sum() for c, v in contrib.items()}
    positive = {c: max(v, 0.0) for c, v in total.items()}
    rows = []
    for (c, band) in zip(("tv", "radio"), roi_band):
        rows.append({"variant": "augmented", "channel": c, "spend": spend[c], "spend_share": spend[c] / 100,
                     "contribution": total[c], "effect_share": positive[c] / sum(positive.values()),
                     "roi": total[c] / spend[c], "roi_lower": band[0], "roi_upper": band[1],
                     "mroi": 0.0, "mroi_lower": 0.0, "mroi_upper": 0.0})
    dates = pd.date_range("2024-01-07", periods=WEEKS, freq="7D")
    contributions = pd.concat([pd.DataFrame({"date": dates, "variant": "augmented", "channel": c,
                                             "contribution": v, "lower": np.nan, "upper": np.nan})
                               for c, v in contrib.items()], ignore_index=True)
    fit = pd.DataFrame({"date": dates, "variant": "augmented", "actual": actual, "predicted": actual,
                        "baseline": actual})
    return MMMResults(contributions=contributions, summary=pd.DataFrame(rows), response=pd.DataFrame(), fit=fit)


def _status(checks, check, channel):
    row = checks[(checks["check"] == check) & (checks["channel"] == channel)]
    assert len(row) == 1, (check, channel)
    return row.iloc[0]


def test_signs_ranges_negative_weeks_and_shares():
    tv = np.full(WEEKS, 12.0)  # ROI 120 / 80 = 1.5, 100% of the positive effect for 80% of spend
    radio = np.r_[np.full(5, 1.0), np.full(5, -2.0)]  # total -5: ROI -0.25; 5 negative weeks
    res = _results(tv, radio, actual=np.full(WEEKS, 100.0))
    cfg = MMMConfig(target="sales", channels=("tv", "radio"), roi_range={"tv": [0.5, 1.2], "radio": [0.1, 3]})
    checks = coherence_checks(res, cfg)
    assert _status(checks, "sign", "radio")["status"] == "flag"
    assert _status(checks, "sign", "tv")["status"] == "ok"
    tv_range = _status(checks, "roi range", "tv")
    assert tv_range["status"] == "flag" and tv_range["value"] == pytest.approx(1.5)
    assert "outside the plausible range 0.5 to 1.2" in tv_range["sentence"]
    assert _status(checks, "roi range", "radio")["status"] == "flag"
    neg = _status(checks, "negative weeks", "radio")
    assert neg["status"] == "flag" and neg["value"] == 5 and "5 of 10 weeks" in neg["sentence"]
    assert _status(checks, "negative weeks", "tv")["status"] == "ok"
    # radio: 0% of the effect for 20% of the spend (ratio 0); tv: 100% for 80% (ratio 1.25).
    assert _status(checks, "share", "radio")["status"] == "flag"
    assert _status(checks, "share", "tv")["status"] == "ok"
    assert _status(checks, "share", "tv")["value"] == pytest.approx(1.25)
    # Flags come first, every row has a sentence that names its channel.
    status = checks["status"].tolist()
    assert status == sorted(status, key=["flag", "uncertain", "ok"].index)
    assert all(r.channel in r.sentence for r in checks.itertuples())


def test_interval_through_zero_is_uncertain_and_tiny_negatives_pass():
    tv = np.r_[np.full(9, 12.0), -0.5]  # 0.5 / 108.5 < 1% of the absolute total
    res = _results(tv, np.full(WEEKS, 3.0), actual=np.full(WEEKS, 100.0), roi_band=((1.1, 1.9), (-0.2, 3.0)))
    checks = coherence_checks(res, MMMConfig(target="sales", channels=("tv", "radio")))
    assert _status(checks, "sign", "radio")["status"] == "uncertain"
    assert _status(checks, "negative weeks", "tv")["status"] == "ok"
    assert "roi range" not in set(checks["check"])  # no range in the config: not checked


def test_cost_per_acquisition_and_conversion_rate():
    tv, radio = np.full(WEEKS, 12.0), np.full(WEEKS, 1.0)
    actual = np.full(WEEKS, 100.0)
    res = _results(tv, radio, actual)
    dates = pd.date_range("2024-01-07", periods=WEEKS, freq="7D")
    conversions = np.full(WEEKS, 4.0)  # 25 of sales per conversion
    data = pd.DataFrame({"date": dates, "conversions": conversions, "visits": np.full(WEEKS, 40.0)})
    cfg = MMMConfig(target="sales", channels=("tv", "radio"), mediators=("visits",), kpi_column="conversions")
    shuffled = data.iloc[np.random.default_rng(0).permutation(WEEKS)]
    checks = coherence_checks(res, cfg, data=shuffled)
    value = actual.sum() / conversions.sum()
    assert _status(checks, "value per conversions", "all")["value"] == pytest.approx(value)
    # tv: 120 of sales = 4.8 conversions for 80 of spend -> 16.67 each, below the 25 each brings.
    tv_cpa = _status(checks, "cpa", "tv")
    assert tv_cpa["value"] == pytest.approx(80.0 / (tv.sum() / value)) and tv_cpa["status"] == "ok"
    # radio: 10 of sales = 0.4 conversions for 20 of spend -> 50 each, above 25.
    radio_cpa = _status(checks, "cpa", "radio")
    assert radio_cpa["value"] == pytest.approx(50.0) and radio_cpa["status"] == "flag"
    rate = _status(checks, "conversion rate", "visits")
    assert rate["value"] == pytest.approx(0.1) and rate["status"] == "ok"
    # Week-to-week value per conversion that swings is flagged.
    swings = data.assign(conversions=np.r_[np.full(5, 1.0), np.full(5, 20.0)])
    assert _status(coherence_checks(res, cfg, data=swings), "value per conversions", "all")["status"] == "flag"


def test_kpi_series_aligns_by_date_and_names_bad_values():
    cfg = MMMConfig(target="sales", channels=("tv",), kpi_column="leads")
    data = pd.DataFrame({"date": ["2024-01-21", "2024-01-07", "2024-01-14"], "leads": [3.0, 1.0, 2.0]})
    np.testing.assert_array_equal(kpi_series(data, cfg), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"kpi_column 'leads' is not a column"):
        kpi_series(data.drop(columns="leads"), cfg)
    with pytest.raises(ValueError, match=r"column 'leads', row 1: .* not a non-negative number"):
        kpi_series(data.assign(leads=[1.0, -1.0, 2.0]), cfg)
    res = _results(np.ones(WEEKS), np.ones(WEEKS), np.ones(WEEKS))
    with pytest.raises(ValueError, match="pass the data"):
        coherence_checks(res, MMMConfig(target="sales", channels=("tv", "radio"), kpi_column="leads"))
    with pytest.raises(ValueError, match="no KPIs for variant 'observed'"):
        coherence_checks(res, MMMConfig(target="sales", channels=("tv", "radio")), variant="observed")


def test_config_fields_validate_and_round_trip():
    cfg = MMMConfig.from_dict({"target": "sales", "channels": ["tv", "radio"], "roi_range": {"tv": [0.5, 5]},
                               "kpi_column": "conversions"})
    assert cfg.roi_range == {"tv": (0.5, 5.0)}
    assert MMMConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match=r"roi_range given for \['zz'\], which are not channels"):
        MMMConfig(target="sales", channels=("tv",), roi_range={"zz": [1, 2]})
    with pytest.raises(ValueError, match="low < high"):
        MMMConfig(target="sales", channels=("tv",), roi_range={"tv": [3, 1]})
    with pytest.raises(ValueError, match="must be a mapping"):
        MMMConfig(target="sales", channels=("tv",), roi_range=[0.5, 5])
    with pytest.raises(ValueError, match="kpi_column 'tv' already has another role"):
        MMMConfig(target="sales", channels=("tv",), kpi_column="tv")
    for bad in (-1, 2.5, None, "13", True):
        with pytest.raises(ValueError, match="holdout_weeks must be a non-negative integer"):
            MMMConfig(target="sales", channels=("tv",), holdout_weeks=bad)
    for bad in (0, 1, None, "0.8"):
        with pytest.raises(ValueError, match=r"budget_confidence must be in \(0, 1\)"):
            MMMConfig(target="sales", channels=("tv",), budget_confidence=bad)
