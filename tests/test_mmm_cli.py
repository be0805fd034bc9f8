"""End to end: the ``mmm`` command on a CSV and a YAML config, and the ``demo --quick`` run."""

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from causalda_jax.mmm import simulate
from causalda_jax.mmm._cli import demo_command, mmm_command


@pytest.fixture(scope="module")
def app():
    # The command functions on their own app; test_registered_on_main_app checks the wiring.
    local = typer.Typer()
    local.command("mmm")(mmm_command)
    local.command("demo")(demo_command)
    return local


CONFIG = """\
date: week
target: revenue
channels: [tv, radio, social]
controls: [price, promo]
mediators: [branded_search]
augmentation: sample
augmentation_ratio: 1.0
model_params: {n_estimators: 30}
graph: graph.json
bootstrap: 2
budget_method: search
roi_range: {tv: [0.5, 5], radio: [0.5, 5]}
kpi_column: leads
"""


@pytest.mark.slow
def test_mmm_command_on_csv_and_yaml(app, tmp_path):
    sim = simulate(weeks=48, channels=3, seed=1)
    data = sim.data.rename(columns={"date": "week", "sales": "revenue"})
    data["leads"] = (data["revenue"] / 25).round()
    data.to_csv(tmp_path / "weekly.csv", index=False)
    (tmp_path / "config.yaml").write_text(CONFIG)
    # The true graph (relative path, resolved against the config's folder), with its bidirected edges.
    graph = sim.graph.to_dict()
    graph = json.loads(json.dumps(graph).replace('"sales"', '"revenue"'))
    (tmp_path / "graph.json").write_text(json.dumps(graph))
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["mmm", str(tmp_path / "weekly.csv"), "--config", str(tmp_path / "config.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "what to do:" in result.output and "risk-aware budget: expected lift" in result.output
    for name in ("index.html", "summary.csv", "contributions.csv", "response.csv", "budget.csv", "graph.png",
                 "roi.png", "response.png", "pairs.png", "run.json"):
        assert (out / name).exists(), name
    run = json.loads((out / "run.json").read_text())
    assert run["graph_source"] == "given"
    assert run["augmentation"].startswith("sample")
    # Built under a temporary name, then moved: the paths it records are the final ones.
    assert run["report"] == str(out / "index.html") and all(p.startswith(str(out)) for p in run["tables"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    html = (out / "index.html").read_text()
    assert html.count("data:image/png;base64,") >= 8
    # Next to the intervals, in the report and on the console: what they do and do not reflect.
    assert "reflect refitting noise, not model error" in html
    assert "not model error" in " ".join(result.output.split())

    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["variant"]) == {"augmented", "observed"}
    assert summary["roi_lower"].notna().all()
    # Robustness, coherence and the summary at the top of one page.
    for name in ("vif.csv", "regression.csv", "correlation_observed.csv", "correlation_augmented.csv",
                 "coherence.csv", "correlation.png", "holdout.csv", "holdout.png", "risk_budget.csv"):
        assert (out / name).exists(), name
    assert html.index("What to do.") < html.index("How sure.") < html.index("What the data could not tell.")
    assert html.index("What to do.") < html.index('id="budget-allocation"')
    for heading in ("Business coherence", "Statistical robustness: observed vs augmented", "<nav>"):
        assert heading in html
    coherence = pd.read_csv(out / "coherence.csv")
    assert {"sign", "roi range", "negative weeks", "share", "cpa", "value per leads"} <= set(coherence["check"])
    assert set(coherence.loc[coherence["check"] == "roi range", "channel"]) == {"tv", "radio"}
    assert run["median_channel_vif"]["observed"] >= 1.0
    holdout = pd.read_csv(out / "holdout.csv")
    assert set(zip(holdout["variant"], holdout["split"])) == {
        (v, s) for v in ("augmented", "observed") for s in ("holdout", "in-sample")}
    assert (holdout.loc[holdout["split"] == "holdout", "weeks"] == 13).all()
    assert html.index("refitted without the last 13 weeks") < html.index('alt="holdout"') < html.index('alt="fit"')
    assert run["summary"]["action"] and run["summary"]["unknowns"]


def test_mmm_command_reports_bad_data(app, tmp_path):
    sim = simulate(weeks=48, channels=3, seed=1)
    data = sim.data.rename(columns={"date": "week", "sales": "revenue"})
    data.loc[9, "radio"] = -5.0
    data.to_csv(tmp_path / "weekly.csv", index=False)
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = CliRunner().invoke(app, ["mmm", str(tmp_path / "weekly.csv"), "--config", str(tmp_path / "config.yaml"),
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code != 0
    assert "channel 'radio', row 9" in result.output


def test_registered_on_main_app():
    import causalda_jax._cli as cli

    group = typer.main.get_command(cli.app)
    assert {"demo", "mmm"} <= set(group.list_commands(None))
    assert group.get_command(None, "mmm").help.startswith("Run the marketing mix workflow")
