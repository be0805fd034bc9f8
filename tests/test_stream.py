"""sample(..., out=DIR): parquet parts equal the in-memory draw; resume, refusal, atomic parts; CLI."""

import json
import os

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from causalda_jax import CausalGraph, ParquetSample, sample
from causalda_jax._cli import app

GRAPH = {"directed": [["x", "y"], ["c", "y"], ["y", "z"]]}
# One chunk size in every call, so the tests share one compiled kernel (results never depend on it).
C = 1024


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    c = pd.Categorical(rng.choice(["a", "b", "c"], size=300))
    y = np.sin(x) + (c == "b") + 0.3 * rng.normal(size=300)
    return pd.DataFrame({"x": x, "c": c, "y": y, "z": (y > 0.5).astype(np.int64)})


def _snapshot(directory):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


@pytest.mark.slow
def test_parts_are_the_in_memory_draw(df, tmp_path):
    # Oracle: the in-memory sample with the same seed; 5 parts, the last one short. Smoothing
    # adds float64 noise per sample, so it checks that noise too is indexed by the sample.
    # One chunk size for every call: one compilation.
    kw = {"seed": 11, "smoothing": 0.5, "chunk_size": C}
    expected = sample(df, GRAPH, 4600, **kw)
    res = sample(df, GRAPH, 4600, out=tmp_path / "o", part_rows=1000, **kw)
    assert isinstance(res, ParquetSample) and res.complete and res.n_rows == 4600
    assert [p.name for p in res.parts] == [f"part-{i:06d}.parquet" for i in range(5)]
    back = pd.read_parquet(tmp_path / "o")
    pd.testing.assert_frame_equal(back, expected)  # values, dtypes and categories
    manifest = json.loads((tmp_path / "o" / "_manifest.json").read_text())
    assert [p["rows"] for p in manifest["parts"]] == [1000] * 4 + [600]
    assert [p["first_sample"] for p in manifest["parts"]] == [0, 1000, 2000, 3000, 4000]


@pytest.mark.slow
def test_offset_selects_rows_of_the_larger_draw(df):
    full, idx = sample(df, GRAPH, 3000, seed=2, return_indices=True, chunk_size=C)
    part, part_idx = sample(df, GRAPH, 777, seed=2, offset=1500, return_indices=True, chunk_size=C)
    np.testing.assert_array_equal(part_idx, idx[1500:2277])
    pd.testing.assert_frame_equal(part, full.iloc[1500:2277].reset_index(drop=True))
    with pytest.raises(ValueError, match="offset must be a non-negative integer"):
        sample(df, GRAPH, 10, offset=-1)
    with pytest.raises(ValueError, match="offset \\+ n_samples must be below 2\\*\\*31"):
        sample(df, GRAPH, 10, offset=2**31 - 5)


def test_rerun_resumes_only_missing_parts(df, tmp_path):
    out = tmp_path / "o"
    sample(df, GRAPH, 3000, seed=5, out=out, part_rows=1000, chunk_size=C)
    before = _snapshot(out)
    # A killed run: part 1 and the manifest never made it, a temporary file was left behind.
    (out / "part-000001.parquet").unlink()
    (out / "_manifest.json").unlink()
    (out / ".part-000001.parquet.tmp-999").write_bytes(b"half a part")
    res = sample(df, GRAPH, 3000, seed=5, out=out, part_rows=1000, chunk_size=C)
    after = _snapshot(out)
    assert res.complete and set(after) == set(before)  # the stale temporary file is gone
    for name in ("part-000000.parquet", "part-000002.parquet", "_run.json"):
        assert after[name] == before[name], name  # untouched: same bytes, same modification time
    assert after["part-000001.parquet"][0] == before["part-000001.parquet"][0]  # redrawn identically
    pd.testing.assert_frame_equal(pd.read_parquet(out), sample(df, GRAPH, 3000, seed=5, chunk_size=C))


def test_other_run_or_foreign_files_are_refused(df, tmp_path):
    out = tmp_path / "o"
    sample(df, GRAPH, 2000, seed=5, out=out, part_rows=1000, chunk_size=C)
    before = _snapshot(out)
    with pytest.raises(ValueError, match="holds another sample run \\(it differs in key\\)"):
        sample(df, GRAPH, 2000, seed=6, out=out, part_rows=1000, chunk_size=C)
    with pytest.raises(ValueError, match="differs in n_samples, part_rows"):
        sample(df, GRAPH, 3000, seed=5, out=out, part_rows=500, chunk_size=C)
    with pytest.raises(ValueError, match="differs in data"):
        sample(df.assign(x=df["x"] + 1), GRAPH, 2000, seed=5, out=out, part_rows=1000, chunk_size=C)
    assert _snapshot(out) == before  # nothing overwritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "mine.csv").write_text("a\n1\n")
    with pytest.raises(ValueError, match="is not empty \\(mine.csv\\) and holds no sample run"):
        sample(df, GRAPH, 10, seed=0, out=other)
    assert sorted(os.listdir(other)) == ["mine.csv"]
    with pytest.raises(ValueError, match="is not a directory"):
        sample(df, GRAPH, 10, seed=0, out=other / "mine.csv")
    with pytest.raises(ValueError, match="return_indices cannot be written"):
        sample(df, GRAPH, 10, seed=0, out=tmp_path / "x", return_indices=True)


def test_part_of_wrong_size_is_refused(df, tmp_path):
    out = tmp_path / "o"
    sample(df, GRAPH, 2000, seed=5, out=out, part_rows=1000, chunk_size=C)
    pd.DataFrame({"x": [1.0]}).to_parquet(out / "part-000001.parquet")
    (out / "_manifest.json").unlink()
    with pytest.raises(ValueError, match="part-000001.parquet holds 1 rows where this run puts 1000"):
        sample(df, GRAPH, 2000, seed=5, out=out, part_rows=1000, chunk_size=C)


def test_cli_streams_to_a_directory(df, tmp_path):
    runner = CliRunner()
    df.to_parquet(tmp_path / "d.parquet")
    CausalGraph.from_dict(GRAPH).to_json(tmp_path / "g.json")
    args = ["sample", str(tmp_path / "d.parquet"), "-g", str(tmp_path / "g.json"), "-o", str(tmp_path / "parts"),
            "-n", "2600", "--part-rows", "1000"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2,600" in result.output
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "parts"), sample(df, GRAPH, 2600, seed=0, chunk_size=C))
    result = runner.invoke(app, args[:-4] + ["-n", "2600", "--seed", "1", "--part-rows", "1000"])
    assert result.exit_code == 2 and "holds another sample run" in " ".join(result.output.split())
    result = runner.invoke(app, args[:5] + [str(tmp_path / "x.parquet"), "-n", "10", "--distributed"])
    assert result.exit_code == 2 and "give a directory" in " ".join(result.output.split())
