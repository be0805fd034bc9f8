"""Bad weekly input gives errors that name the column and the row."""

import numpy as np
import pandas as pd
import pytest

from causalda_jax.mmm import MMMConfig, load_config, simulate, validate_weekly

CFG = MMMConfig(target="sales", channels=("tv", "radio", "social"), controls=("price",))


@pytest.fixture(scope="module")
def data():
    return simulate(weeks=60, channels=3, seed=0).data


def test_clean_data_passes_and_is_not_mutated(data):
    before = data.copy()
    out = validate_weekly(data.iloc[::-1], CFG)
    assert out["date"].is_monotonic_increasing
    pd.testing.assert_frame_equal(data, before)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.drop(columns="date"), "date column 'date' is not in the file"),
        (lambda d: d.drop(columns="radio"), r"channels \['radio'\] are not columns"),
        (lambda d: d.drop(index=10), "1 week\\(s\\) missing between 2021-03-07 and 2021-03-21"),
        (lambda d: d.assign(date=d["date"].where(d.index != 5, d["date"][4])), r"appears in rows \[4, 5\]"),
        (lambda d: d.assign(tv=d["tv"].where(d.index != 7, -1.0)), "channel 'tv', row 7 .*negative"),
        (lambda d: d.assign(price=d["price"].astype(object).where(d.index != 3, "n/a")), "column 'price', row 3: 'n/a' is not a number"),
        (lambda d: d.assign(social=d["social"].where(d.index != 8, np.nan)), "column 'social', row 8: is missing"),
        (lambda d: d.assign(date=d["date"].astype(str).where(d.index != 2, "soon")), "column 'date', row 2: 'soon' is not a date"),
        (lambda d: d.iloc[:25], "25 weeks is too few for 3 channels"),
        (lambda d: d.assign(tv=0.0), r"channels \['tv'\] never have any spend"),
    ],
)
def test_bad_input_is_named(data, edit, message):
    with pytest.raises(ValueError, match=message):
        validate_weekly(edit(data.copy()), CFG)


def test_config_errors(tmp_path):
    with pytest.raises(ValueError, match=r"unknown keys in config: \['chanels'\]"):
        MMMConfig.from_dict({"target": "sales", "chanels": ["tv"]})
    with pytest.raises(ValueError, match="more than one role"):
        MMMConfig(target="sales", channels=("tv",), controls=("tv",))
    with pytest.raises(ValueError, match="augmentation"):
        MMMConfig(target="sales", channels=("tv",), augmentation="magic")
    path = tmp_path / "c.yaml"
    path.write_text("target: sales\nchannels: [tv]\ngraph: g.json\n")
    assert load_config(path).graph == str(tmp_path / "g.json")
