"""Study protocol, runner (resume, config guard), plots, summary and CLI on a tiny configuration."""

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from causalda_jax.study import SCENARIOS, Protocol, Settings, run_study, summary_table
from causalda_jax.study import _runner
from causalda_jax.study._cli import study_command
from causalda_jax.study._protocol import _mixture

# Tiny: 4 linear variables, 40 rows, one target, a 1-point grid, 2 folds, every arm.
TINY_PROTOCOL = Protocol(
    max_targets=1,
    n_reference=100,
    cv=2,
    param_grid={"n_estimators": [10], "reg_lambda": [1]},
    selection_grid={"aug_coeff": [0.5]},
)
TINY_SETTINGS = Settings(n_nodes=4, n_samples=40, expected_degree=1, mechanism="linear")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "threshold"
    results = run_study(
        "threshold", reps=1, values=(1e-1, 1e-2), out=out, protocol=TINY_PROTOCOL, defaults=TINY_SETTINGS, progress=False
    )
    return out, results


def test_mixture_weights_follow_alpha():
    train = pd.DataFrame({"a": np.arange(4.0)})
    extra = pd.DataFrame({"a": [9.0, 8.0]})
    data, w = _mixture(train, extra, np.array([0.3, 0.2]), alpha=0.5)
    assert len(data) == 6
    # (1 - α)/n per original row and α·w per augmented row, rescaled to sum to n = 4.
    raw = np.array([0.125] * 4 + [0.15, 0.1])
    np.testing.assert_allclose(w, raw * 4 / raw.sum())


@pytest.mark.slow
def test_results_are_tidy_and_consistent(study):
    _, results = study
    assert set(results["arm"]) == {"baseline", "augment", "sample", "regressor"}
    assert (results["status"] == "ok").all(), results["status"].unique()
    assert len(results) == 2 * 4 * 1  # values x arms x targets
    assert {"scenario", "parameter", "value", "rep", "target", "r2", "mape", "kl", "w1", "diversity"} <= set(results)
    base = results[results["arm"] == "baseline"]
    np.testing.assert_allclose(base["ess"], base["n_train"])  # uniform weights: Kish ESS = n
    np.testing.assert_allclose(base["diversity"], 0.0, atol=1e-12)
    assert (base["frac_augmented"] == 0).all() and (base["n_train"] == 28).all() and (base["n_test"] == 12).all()
    aug = results[results["arm"] == "augment"].set_index("value")
    base = base.set_index("value")
    for value in aug.index:
        if aug.loc[value, "empty"]:
            # An empty augmentation trains on the baseline's set: identical scores, recorded as empty.
            assert aug.loc[value, "r2"] == base.loc[value, "r2"]
            assert aug.loc[value, "n_generated"] == 0
        else:
            assert aug.loc[value, "n_generated"] > 0 and aug.loc[value, "n_train_rows"] > 28
    # At theta = 1e-2 this seed keeps some rows; at 1e-1 pruning empties the augmentation.
    assert not aug.loc[1e-2, "empty"] and aug.loc[1e-1, "empty"]
    # Sampler: n_train draws, each weighted alpha / n_train, originals (1 - alpha) / n_train: all equal.
    smp = results[results["arm"] == "sample"]
    assert (smp["n_generated"] == 28).all()
    np.testing.assert_allclose(smp["ess"], 56.0)
    reg = results[results["arm"] == "regressor"]
    assert set(reg["aug_coeff"]) <= {0.0, 0.5} and reg["r2"].notna().all()


@pytest.mark.slow
def test_outputs_written(study):
    out, _ = study
    for name in ("results.parquet", "results.csv", "summary.md", "config.json", "plots/overview.png", "plots/r2.png"):
        assert (out / name).exists(), name
    assert (out / "plots/overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (out / "summary.md").read_text()
    assert "| threshold | arm | R²" in text and "augment" in text
    assert json.loads((out / "config.json").read_text())["parameter"] == "threshold"


@pytest.mark.slow
def test_resume_does_not_recompute(study, monkeypatch):
    out, results = study

    def boom(*args, **kwargs):
        raise AssertionError("a finished run was recomputed")

    monkeypatch.setattr(_runner, "run_once", boom)
    again = run_study(
        "threshold", reps=1, values=(1e-1, 1e-2), out=out, protocol=TINY_PROTOCOL, defaults=TINY_SETTINGS,
        progress=False, report=False,
    )
    pd.testing.assert_frame_equal(again, results)


@pytest.mark.slow
def test_other_settings_in_same_folder_are_refused(study):
    out, _ = study
    with pytest.raises(ValueError, match="other settings"):
        run_study("threshold", reps=1, values=(1e-1,), out=out, protocol=TINY_PROTOCOL, progress=False)


def test_failed_runs_are_reported_not_written(tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise RuntimeError("no luck")

    monkeypatch.setattr(_runner, "run_once", fail)
    results = run_study("noise", reps=1, values=(0.1,), out=tmp_path, protocol=TINY_PROTOCOL, progress=False)
    assert results.empty and not list((tmp_path / "runs").iterdir())
    assert "no luck" in capsys.readouterr().out


@pytest.mark.slow
def test_summary_table_reports_each_runs_scores(study):
    _, results = study
    table = summary_table(results, SCENARIOS["threshold"])
    header, rule, *rows = table.splitlines()
    assert header.split("|")[1:4] == [" threshold ", " arm ", " R² "]
    cells = {(float(r.split("|")[1]), r.split("|")[2].strip()): r.split("|")[3].strip() for r in rows}
    # One repetition of one target: each R² cell is that run's R², with no interval.
    ok = results[results["status"] == "ok"]
    expected = {(v, arm): f"{r2:.3f}" for v, arm, r2 in ok[["value", "arm", "r2"]].itertuples(index=False)}
    assert cells == expected


def test_scenarios_cover_the_guide():
    assert set(SCENARIOS) == {"mechanism", "n_points", "n_variables", "degree", "noise", "outliers", "threshold"}
    assert SCENARIOS["n_points"].values == (30, 40, 60, 80, 100, 300, 500, 700)
    assert SCENARIOS["degree"].values == tuple(range(8))
    for sc in SCENARIOS.values():
        assert set(sc.quick_values) <= set(sc.values)
        Settings().with_value(sc.parameter, sc.values[0])  # every parameter is a Settings field


def _cli_app():
    app = typer.Typer()
    app.command()(study_command)
    return app


def test_cli_rejects_unknown_scenario():
    result = CliRunner().invoke(_cli_app(), ["bogus"])
    assert result.exit_code != 0 and "unknown scenario" in result.output


def test_cli_passes_options(monkeypatch, tmp_path):
    seen = {}

    def fake(scenario, **kwargs):
        seen.update(kwargs, scenario=scenario)
        return pd.DataFrame({"a": [1, 2]})

    monkeypatch.setattr(_runner, "run_study", fake)
    result = CliRunner().invoke(
        _cli_app(), ["n_points", "--reps", "3", "--jobs", "2", "--out", str(tmp_path), "--quick", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert seen == {"scenario": "n_points", "reps": 3, "jobs": 2, "out": tmp_path, "quick": True, "progress": False}
    assert "2 result rows" in result.output
    result = CliRunner().invoke(_cli_app(), ["threshold", "--values", "0.1, 1e-3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert seen["values"] == (0.1, 1e-3)


def test_study_command_is_registered():
    import causalda_jax._cli as cli

    group = typer.main.get_command(cli.app)
    assert "study" in group.list_commands(None)
    assert group.get_command(None, "study").help.startswith("Run (or resume) a scenario")


@pytest.mark.slow
def test_parallel_jobs_match_serial(tmp_path):
    protocol = Protocol(**{**TINY_PROTOCOL.__dict__, "arms": ("baseline",)})
    kwargs = dict(reps=2, values=(0.1,), protocol=protocol, defaults=TINY_SETTINGS, progress=False, report=False)
    serial = run_study("noise", out=tmp_path / "a", jobs=1, **kwargs)
    parallel = run_study("noise", out=tmp_path / "b", jobs=2, **kwargs)
    cols = ["value", "rep", "arm", "target", "r2", "kl", "w1"]
    pd.testing.assert_frame_equal(serial[cols], parallel[cols])


def _cells(out) -> dict:
    # Timings differ between any two runs; everything else of a cell is a function of its seed.
    timing = ["seconds", "seconds_generate"]
    cells = {f.name: pd.read_parquet(f).drop(columns=timing, errors="ignore") for f in (out / "runs").glob("*.parquet")}
    return {name: cell.sort_values(["arm", "target"]).reset_index(drop=True) for name, cell in cells.items()}


def test_added_arms_extend_a_study_as_a_fresh_run_would(tmp_path, monkeypatch):
    first = Protocol(**{**TINY_PROTOCOL.__dict__, "arms": ("baseline", "sample")})
    both = Protocol(**{**TINY_PROTOCOL.__dict__, "arms": ("baseline", "sample", "sample_anm_ridge")})
    kwargs = dict(reps=2, values=(0.1,), defaults=TINY_SETTINGS, progress=False, report=False)
    run_study("noise", out=tmp_path / "ext", protocol=first, **kwargs)
    calls = []
    real = _runner.run_once
    monkeypatch.setattr(_runner, "run_once", lambda s, p, seed: calls.append(p.arms) or real(s, p, seed))
    extended = run_study("noise", out=tmp_path / "ext", protocol=both, **kwargs)
    assert calls == [("sample_anm_ridge",)] * 2  # finished cells run their missing arm only
    monkeypatch.setattr(_runner, "run_once", real)
    fresh = run_study("noise", out=tmp_path / "fresh", protocol=both, **kwargs)
    assert len(extended) == len(fresh) == 2 * 3
    got, want = _cells(tmp_path / "ext"), _cells(tmp_path / "fresh")
    assert sorted(got) == sorted(want)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], check_like=True)
    config = json.loads((tmp_path / "ext" / "config.json").read_text())
    assert config["protocol"]["arms"] == ["baseline", "sample", "sample_anm_ridge"]
    # Asking again with only the first arms would drop one: refused, nothing run.
    with pytest.raises(ValueError, match=r"leave out \['sample_anm_ridge'\]"):
        run_study("noise", out=tmp_path / "ext", protocol=first, **kwargs)
    with pytest.raises(ValueError, match="other settings"):
        run_study("noise", out=tmp_path / "ext", protocol=Protocol(**{**both.__dict__, "cv": 3}), **kwargs)
