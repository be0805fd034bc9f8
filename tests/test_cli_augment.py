import numpy as np
import pandas as pd
from typer.testing import CliRunner

from causalda_jax import AugmentedData, CausalGraph, augment
from causalda_jax._cli import app

runner = CliRunner()


def _files(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    df = pd.DataFrame({"x": x, "y": np.sin(x) + 0.2 * rng.normal(size=30)})
    g = CausalGraph(["x", "y"], [("x", "y")])
    df.to_csv(tmp_path / "d.csv", index=False)
    g.to_json(tmp_path / "g.json")
    return df, g


def test_augment_cli_writes_what_the_library_computes(tmp_path):
    df, g = _files(tmp_path)
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["augment", str(tmp_path / "d.csv"), "-g", str(tmp_path / "g.json"),
                                 "-o", str(out), "--threshold", "0.05"])
    assert result.exit_code == 0, result.output
    assert "mass kept" in result.output and "effective sample size" in result.output
    got = AugmentedData.load(out)
    expected = augment(pd.read_csv(tmp_path / "d.csv"), g, threshold=0.05)
    np.testing.assert_allclose(got.weights, expected.weights, rtol=1e-12)
    pd.testing.assert_frame_equal(got.data, expected.data)


def test_augment_cli_reports_bad_input(tmp_path):
    df, g = _files(tmp_path)
    result = runner.invoke(app, ["augment", str(tmp_path / "d.csv"), "-g", str(tmp_path / "g.json"),
                                 "-o", str(tmp_path / "o.parquet"), "--threshold", "2"])
    assert result.exit_code == 2 and "threshold must lie in [0, 1)" in result.output
    result = runner.invoke(app, ["augment", str(tmp_path / "missing.csv"), "-g", str(tmp_path / "g.json"),
                                 "-o", str(tmp_path / "o.parquet")])
    assert result.exit_code == 2 and "file not found" in result.output


def test_sample_cli_writes_what_the_library_draws(tmp_path):
    from causalda_jax import sample

    df, g = _files(tmp_path)
    out = tmp_path / "s.parquet"
    result = runner.invoke(app, ["sample", str(tmp_path / "d.csv"), "-g", str(tmp_path / "g.json"),
                                 "-o", str(out), "-n", "500", "--seed", "3", "--bandwidth-scale", "0.5"])
    assert result.exit_code == 0, result.output
    assert "sampled rows" in result.output
    expected = sample(pd.read_csv(tmp_path / "d.csv"), g, 500, seed=3, bandwidth_scale=0.5)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)


def test_sample_cli_reports_bad_input(tmp_path):
    df, g = _files(tmp_path)
    args = ["sample", str(tmp_path / "d.csv"), "-g", str(tmp_path / "g.json")]
    for extra, message in [
        (["-o", str(tmp_path / "s.parquet"), "-n", "0"], "n_samples must be a positive integer"),
        (["-o", str(tmp_path / "s.txt"), "-n", "5"], "use a .csv, .parquet"),
        (["-o", str(tmp_path / "s.csv"), "-n", "5", "--kernel", "box"], "unknown kernel 'box'"),
    ]:
        result = runner.invoke(app, [*args, *extra])
        # Rich wraps long lines: compare with the whitespace collapsed.
        assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
    assert not (tmp_path / "s.csv").exists() and not (tmp_path / "s.txt").exists()
