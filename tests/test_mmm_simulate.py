"""The simulator's ground truth, recomputed independently from its components."""

import numpy as np
import pandas as pd
import pytest

from causalda_jax.mmm import simulate
from mmm_oracle import loop_adstock


@pytest.fixture(scope="module")
def sim():
    return simulate(weeks=104, channels=4, seed=3)


def test_contributions_and_roi_recomputed_from_parameters(sim):
    p = sim.params
    for ch in sim.channels:
        stock = loop_adstock(sim.data[ch].to_numpy(), p["decay"][ch])
        k, s, top = p["half_saturation"][ch], p["slope"][ch], p["max_effect"][ch]
        direct = top * stock**s / (stock**s + k**s)
        expected = direct.copy()
        if ch == sim.mediator_parent:
            # The mediator path: branded search loses its TV-driven part when TV is off.
            km = p["mediator_half_saturation"]
            expected += p["mediator_effect"] * p["mediator_max"] * stock / (stock + km)
        np.testing.assert_allclose(sim.contributions[ch].to_numpy(), expected, rtol=2e-5, atol=1e-4)
        roi = expected.sum() / sim.data[ch].sum()
        assert sim.roi[ch] == pytest.approx(roi, rel=2e-5)
    # Switching a channel off in the exact outcome function gives the same contribution.
    spend = sim.data[list(sim.channels)].to_numpy()
    off = spend.copy()
    off[:, 1] = 0.0
    np.testing.assert_allclose(sim.true_sales(spend) - sim.true_sales(off), sim.contributions[sim.channels[1]], atol=1e-9)


def test_reproducible_per_seed_and_different_across_seeds():
    a, b, c = simulate(weeks=60, seed=5), simulate(weeks=60, seed=5), simulate(weeks=60, seed=6)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert not np.allclose(a.data["sales"], c.data["sales"])


def test_confounding_and_correlated_spends(sim):
    for ch in sim.channels:
        assert np.corrcoef(sim.hidden_demand, sim.data[ch])[0, 1] > 0.1
    corr = np.corrcoef(sim.data[list(sim.channels)].to_numpy().T)
    assert corr[np.triu_indices(4, 1)].mean() > 0.2
    # No confounding: spends no longer follow the demand systematically.
    flat = simulate(weeks=104, seed=3, confounding=0.0)
    assert abs(np.corrcoef(flat.hidden_demand, flat.data["tv"])[0, 1]) < 0.3


def test_graph_and_shapes(sim):
    assert set(sim.graph.nodes) == {"trend", "season_sin", "season_cos", "price", "promo", *sim.channels,
                                    "branded_search", "sales"}
    assert ("tv", "branded_search") in sim.graph.directed
    assert list(sim.contributions.columns) == ["date", *sim.channels]
    assert (sim.data[list(sim.channels)] >= 0).all().all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="between 3 and 6"):
        simulate(channels=2)
    with pytest.raises(ValueError, match="unknown channels"):
        simulate(channels=["tv", "radio", "podcast"])
