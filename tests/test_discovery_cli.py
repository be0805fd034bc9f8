"""`causalda discover`: CSV + knowledge in, GRAPH.json (CausalGraph format), report and plot out."""

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from causalda_jax import CausalGraph
from causalda_jax._cli import app


def _write_data(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    a, e, c, d = (rng.normal(size=n) for _ in range(4))
    b = 2.0 * a + 1.5 * e + rng.normal(size=n)
    path = tmp_path / "data.csv"
    pd.DataFrame({"a": a, "b": b, "c": c, "d": d, "e": e}).to_csv(path, index=False)
    return path


def test_cli_round_trip(tmp_path):
    data = _write_data(tmp_path)
    know = tmp_path / "knowledge.json"
    know.write_text(json.dumps({"required": [["c", "d"]], "forbidden": [["a", "b"]], "tiers": []}))
    out, report, plot = tmp_path / "graph.json", tmp_path / "report.md", tmp_path / "graph.png"
    result = CliRunner().invoke(
        app,
        ["discover", str(data), "--knowledge", str(know), "-o", str(out), "--report", str(report),
         "--plot", str(plot), "--method", "pc", "--bootstrap", "3"],
    )
    assert result.exit_code == 0, result.output
    g = CausalGraph.from_json(out)
    assert g.nodes == ("a", "b", "c", "d", "e")
    assert ("c", "d") in g.directed and ("a", "b") not in g.directed
    text = report.read_text()
    assert "## Expert edges" in text and "| a | b | forbidden |" in text
    # The disagreements in plain words, the full table in the CSV the report links to.
    assert "- The data support a -> b, which the knowledge forbids" in text
    assert "[report.csv](report.csv)" in text
    table = pd.read_csv(tmp_path / "report.csv")
    assert {("a", "b"), ("c", "d")} <= set(zip(table["source"], table["target"]))
    assert table["sentence"].notna().all()
    assert plot.stat().st_size > 1000
    assert "disagreements" in result.output


def test_cli_bad_knowledge_exits_with_message(tmp_path):
    data = _write_data(tmp_path)
    know = tmp_path / "knowledge.yaml"
    know.write_text("required:\n  - [a, nosuch]\n")
    result = CliRunner().invoke(app, ["discover", str(data), "-k", str(know), "-o", str(tmp_path / "g.json")])
    assert result.exit_code == 2
    assert "nosuch" in result.output
