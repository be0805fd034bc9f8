"""End to end: the ``mmm`` command on a CSV and a YAML config, and the ``demo --quick`` run."""

import json

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
bootstrap: 1
budget_method: search
"""


def test_mmm_command_on_csv_and_yaml(app, tmp_path):
    sim = simulate(weeks=48, channels=3, seed=1)
    data = sim.data.rename(columns={"date": "week", "sales": "revenue"})
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
    for name in ("index.html", "summary.csv", "contributions.csv", "response.csv", "budget.csv", "graph.png",
                 "roi.png", "response.png", "pairs.png", "run.json"):
        assert (out / name).exists(), name
    run = json.loads((out / "run.json").read_text())
    assert run["graph_source"] == "given"
    assert run["augmentation"].startswith("sample")
    html = (out / "index.html").read_text()
    assert html.count("data:image/png;base64,") >= 8
    # Next to the intervals, in the report and on the console: what they do and do not reflect.
    assert "reflect refitting noise, not model error" in html
    assert "not model error" in " ".join(result.output.split())
    import pandas as pd

    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["variant"]) == {"augmented", "observed"}
    assert summary["roi_lower"].notna().all()


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

    names = {c.name for c in cli.app.registered_commands}
    assert {"demo", "mmm"} <= names
