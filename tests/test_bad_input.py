"""Bad and unlucky inputs, through the command line and the API: each gets one clear line and
nothing the user gave is lost, overwritten or half-written."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import causalda_jax as cda
from causalda_jax import AugmentedData, CausalGraph
from causalda_jax._cli import app
from causalda_jax._memory import available_memory, check_memory
from causalda_jax._output import check_output, discard_pending, staged_folder, write_file
from causalda_jax.mmm import MMMConfig, simulate, validate_weekly

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    pd.DataFrame({"x": x, "y": np.sin(x) + 0.2 * rng.normal(size=40)}).to_csv(tmp_path / "d.csv", index=False)
    CausalGraph(["x", "y"], [("x", "y")]).to_json(tmp_path / "g.json")
    (tmp_path / "k.json").write_text(json.dumps({"forbidden": [["y", "x"]]}))
    return tmp_path


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def _never(*args, **kwargs):
    raise AssertionError("the computation ran although the inputs or outputs were bad")


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if augment, sample or discover starts: the checks must come first."""
    import causalda_jax._augment
    import causalda_jax._sample
    import causalda_jax.discovery._discover

    monkeypatch.setattr(causalda_jax._augment, "augment", _never)
    monkeypatch.setattr(causalda_jax._sample, "sample", _never)
    monkeypatch.setattr(causalda_jax.discovery._discover, "discover", _never)


# --------------------------------------------------------------------------- outputs


def _mmm_files(folder: Path, weeks=40, **change):
    sim = simulate(weeks=weeks, channels=3, seed=0)
    data = sim.data.assign(**change)
    data.to_csv(folder / "weekly.csv", index=False)
    (folder / "config.json").write_text(json.dumps({"target": "sales", "channels": list(sim.channels),
                                                    "augmentation": "none", "bootstrap": 0}))
    return sim


@pytest.mark.parametrize(
    "args, message",
    [
        (["augment", "{d}/d.csv", "-g", "{d}/g.json", "-o", "{d}/d.csv"], "is the input"),
        (["augment", "{d}/d.csv", "-g", "{d}/g.json", "-o", "{d}/./sub/../g.json"], "is the input"),
        (["sample", "{d}/d.csv", "-g", "{d}/g.json", "-n", "5", "-o", "{d}/d.csv"], "is the input"),
        (["sample", "{d}/d.csv", "-g", "{d}/g.json", "-n", "5", "-o", "{d}/g.json"], "is the input"),
        (["discover", "{d}/d.csv", "-o", "{d}/d.csv"], "is the input"),
        (["discover", "{d}/d.csv", "-k", "{d}/k.json", "-o", "{d}/k.json"], "is the input"),
        (["discover", "{d}/d.csv", "-o", "{d}/new.json", "--report", "{d}/d.csv"], "is the input"),
        (["discover", "{d}/d.csv", "-o", "{d}/new.json", "--plot", "{d}/new.json"], "both write"),
        (["mmm", "{d}/weekly.csv", "-c", "{d}/config.json", "-o", "{d}/weekly.csv"], "is the input"),
        (["mmm", "{d}/weekly.csv", "-c", "{d}/config.json", "-o", "{d}/config.json"], "is the input"),
        (["mmm", "{d}/weekly.csv", "-c", "{d}/config.json", "-o", "{d}", "--force"], "holds the input"),
        (["demo", "-o", "{d}/d.csv"], "existing file"),
        (["demo", "-o", "{d}"], "not empty"),
        (["study", "noise", "--out", "{d}/d.csv"], "existing file"),
        (["study", "noise", "--out", "{d}"], "not empty"),
    ],
)
def test_output_that_would_replace_an_input_is_refused(files, no_work, args, message):
    _mmm_files(files)
    before = _snapshot(files)
    code, output = _cli([a.format(d=files) for a in args])
    assert code == 2, output
    assert message in output
    assert _snapshot(files) == before


def test_existing_output_needs_force_and_a_missing_folder_is_made(files):
    out = files / "new" / "deeper" / "s.parquet"
    args = ["sample", files / "d.csv", "-g", files / "g.json", "-n", "50", "-o", out]
    code, output = _cli(args)
    assert code == 0, output
    first = out.read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == ["s.parquet"]  # no temporary left
    code, output = _cli(args[:-2] + ["--seed", "1", "-o", out])
    assert code == 2 and "exists" in output and "--force" in output
    assert out.read_bytes() == first
    code, output = _cli(args[:-2] + ["--seed", "1", "-o", out, "--force"])
    assert code == 0, output
    expected = cda.sample(pd.read_csv(files / "d.csv"), CausalGraph(["x", "y"], [("x", "y")]), 50, seed=1)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)


@pytest.mark.parametrize(
    "args, message",
    [
        (["augment", "{d}/d.csv", "-g", "{d}/g.json", "-o", "{d}/out.txt"], "use a .parquet, .npz, .csv"),
        (["sample", "{d}/d.csv", "-g", "{d}/g.json", "-n", "5", "-o", "{d}/out.npz"], "use a .csv, .parquet"),
        (["discover", "{d}/d.csv", "-o", "{d}/graph.yaml"], "use a .json"),
        (["discover", "{d}/d.csv", "-o", "{d}/g2.json", "--plot", "{d}/plot.txt"], "use a .png"),
        (["augment", "{d}/d.csv", "-g", "{d}/g.json", "-o", "{d}/file.csv/out.csv"], "is a file, not a folder"),
        (["augment", "{d}/d.csv", "-g", "{d}/g.json", "-o", "{d}"], "is a folder"),
        (["augment", "{d}/w.csv", "-g", "{d}/g.json", "-o", "{d}/out.csv"], "column 'weight'"),
        (["augment", "{d}/r.csv", "-g", "{d}/gr.json", "-o", "{d}/out.parquet"], "are reserved"),
    ],
)
def test_output_problems_are_found_before_the_work(files, no_work, args, message):
    (files / "file.csv").write_text("a\n1\n")
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "weight": [1.0, 2.0, 0.5]}).to_csv(files / "w.csv", index=False)
    CausalGraph(["x", "weight"]).to_json(files / "g.json")
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "__causalda_x": [1.0, 2.0, 0.5]}).to_csv(files / "r.csv", index=False)
    CausalGraph(["x", "__causalda_x"]).to_json(files / "gr.json")
    code, output = _cli([a.format(d=files) for a in args])
    assert code == 2 and message in output, output
    assert len(output.strip().splitlines()) == 1


def test_an_interrupted_write_leaves_nothing_that_looks_complete(tmp_path):
    target = tmp_path / "out.csv"

    def half(tmp):
        Path(tmp).write_text("x,y\n1,2\n")  # the first rows only
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_file(target, half)
    assert list(tmp_path.iterdir()) == []
    # An existing file stays as it was when its replacement fails part-way.
    target.write_text("kept")
    with pytest.raises(KeyboardInterrupt):
        write_file(target, half)
    assert target.read_text() == "kept" and list(tmp_path.iterdir()) == [target]
    # A folder built part-way is removed; the old one is untouched.
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("old")
    with pytest.raises(RuntimeError), staged_folder(report) as staging:
        (staging / "index.html").write_text("new, half")
        raise RuntimeError("stopped")
    assert _snapshot(tmp_path) == {"out.csv": b"kept", "report/index.html": b"old"}
    assert discard_pending() == []


def test_check_output_compares_resolved_paths(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x\n1\n")
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    with pytest.raises(ValueError, match="is the input"):
        check_output(link, inputs=[data], overwrite=True)
    with pytest.raises(ValueError, match="is the input"):
        check_output(tmp_path / "sub" / ".." / "d.csv", inputs=[data], overwrite=True)
    assert check_output(tmp_path / "new.csv", inputs=[data, None]) == tmp_path / "new.csv"


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.csv", b"", "is empty"),
        ("header.csv", b"x,y\n", "needs data rows"),
        ("ragged.csv", b"x,y\n1,2\n3,4,5\n6,7\n", "not a rectangular table"),
        ("binary.csv", b"\x00\x01\x02\x03x,y", "binary, not text"),
        ("fake.parquet", b"x,y\n1,2\n", "not a parquet file"),
        ("latin1.csv", "x,é\n1,2\n".encode("latin-1"), "not UTF-8"),
        ("data.txt", b"x,y\n1,2\n", "use a .csv or .parquet"),
        ("missing.csv", None, "file not found"),
    ],
)
@pytest.mark.parametrize("command", ["augment", "sample", "discover"])
def test_unreadable_data_is_one_line(files, no_work, name, content, message, command):
    if content is not None:
        (files / name).write_bytes(content)
    extra = {"augment": ["-g", files / "g.json"], "sample": ["-g", files / "g.json", "-n", "5"], "discover": []}
    out = files / ("o.json" if command == "discover" else "o.parquet")
    code, output = _cli([command, files / name, *extra[command], "-o", out])
    assert code == 2 and message in output, output
    assert len(output.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize(
    "graph, message",
    [
        ({"nodes": 5}, "'nodes' must be a list"),
        ({"nodes": ["x", "y"], "directed": "x->y"}, "'directed' must be a list"),
        ({"nodes": ["x"], "edges": []}, "unknown keys"),
        ("not json", "not valid JSON"),
        (None, "is a folder"),
    ],
)
def test_bad_graph_file_is_one_line(files, no_work, graph, message):
    path = files / "bad.json"
    if graph is None:
        path.mkdir()
    else:
        path.write_text(graph if isinstance(graph, str) else json.dumps(graph))
    code, output = _cli(["augment", files / "d.csv", "-g", path, "-o", files / "o.parquet"])
    assert code == 2 and "--graph" in output and message in output, output
    assert len(output.strip().splitlines()) == 1


# --------------------------------------------------------------------------- column types


def _frame():
    rng = np.random.default_rng(1)
    x = rng.normal(size=12)
    return pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=12)})


G = CausalGraph(["x", "y"], [("x", "y")])


@pytest.mark.parametrize("bad", ["abc", "1,234", "3 kg"])
def test_a_typo_in_a_numeric_column_is_an_error_naming_rows_and_values(bad):
    df = _frame()
    df["y"] = df["y"].astype(object)
    df.loc[4, "y"] = bad
    df.loc[9, "y"] = "n/a"
    for call in (lambda: cda.augment(df, G), lambda: cda.sample(df, G, 10, seed=0)):
        with pytest.raises(ValueError) as err:
            call()
        text = str(err.value)
        assert "column 'y'" in text and f"4: {bad!r}" in text and "9: 'n/a'" in text and "2 value(s)" in text


@pytest.mark.parametrize("command", ["augment", "sample"])
def test_a_typo_in_a_csv_column_is_reported_by_the_command(files, command):
    df = pd.read_csv(files / "d.csv")
    lines = (files / "d.csv").read_text().splitlines()
    row = lines[6].split(",")
    lines[6] = f'{row[0]},"1,234"'
    (files / "typo.csv").write_text("\n".join(lines) + "\n")
    extra = ["-n", "5"] if command == "sample" else []
    code, output = _cli([command, files / "typo.csv", "-g", files / "g.json", *extra, "-o", files / "o.parquet"])
    assert code == 2 and "column 'y'" in output and "5: '1,234'" in output, output
    assert len(df) == 40 and not (files / "o.parquet").exists()


def test_text_columns_are_categorical_only_when_declared():
    df = _frame().assign(y=list("abcabcabcabc"))
    with pytest.raises(ValueError, match="column 'y' holds text.*categorical=\\['y'\\]"):
        cda.augment(df, G)
    with pytest.raises(ValueError, match="stores numbers as text"):
        cda.augment(_frame().assign(y=[str(v) for v in range(12)]), G)
    # A single name means that one column, not its letters.
    by_name = cda.augment(df, G, categorical="y", threshold=0.0)
    by_list = cda.augment(df, G, categorical=["y"], threshold=0.0)
    by_dtype = cda.augment(df.astype({"y": "category"}), G, threshold=0.0)
    np.testing.assert_array_equal(by_name.weights, by_list.weights)
    np.testing.assert_allclose(by_dtype.weights, by_list.weights, rtol=1e-12)
    assert by_name.config["categorical"] == ["y"]


def test_object_column_of_numbers_equals_the_float_column():
    df = _frame()
    as_object = df.assign(y=pd.Series(list(df["y"]), dtype=object))
    a = cda.augment(as_object, G, threshold=0.0)
    b = cda.augment(df, G, threshold=0.0)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not a.config["categorical"]


@pytest.mark.parametrize("values", [lambda y: y + 1j, lambda y: pd.Series(list(y + 0j), dtype=object)])
def test_complex_values_are_rejected(values):
    df = _frame()
    df["y"] = values(df["y"])
    with pytest.raises(ValueError, match="column 'y' holds complex numbers"):
        cda.augment(df, G)


# --------------------------------------------------------------------------- save / load


@pytest.mark.parametrize("suffix", [".parquet", ".npz"])
@pytest.mark.parametrize("empty", [False, True])
def test_save_load_round_trip_keeps_names_and_categories(tmp_path, suffix, empty):
    df = pd.DataFrame({0: [0.0, 1.0, 2.0, 3.0], 1: pd.Categorical(["a", "b", "a", "b"], categories=["a", "b", "z"])})
    aug = cda.augment(df, CausalGraph([0, 1], [(0, 1)]), threshold=0.0)
    if empty:
        aug = AugmentedData(aug.data.iloc[:0], aug.weights[:0], aug.log_weights[:0], aug.source_rows[:0],
                            aug.graph, aug.config)
    path = tmp_path / f"aug{suffix}"
    aug.save(path)
    back = AugmentedData.load(path)
    pd.testing.assert_frame_equal(back.data, aug.data)
    np.testing.assert_array_equal(back.source_rows, aug.source_rows)
    np.testing.assert_array_equal(back.log_weights, aug.log_weights)
    assert back.graph.nodes == (0, 1) and list(back.data.columns) == [0, 1]
    cda.augment(back.data if not empty else df, back.graph, threshold=0.0)  # the data still match their graph
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_save_refuses_what_it_cannot_write_and_load_what_it_did_not(tmp_path):
    aug = cda.augment(_frame(), G, threshold=0.0)
    with pytest.raises(ValueError, match="use a .parquet, .pq, .npz"):
        aug.save(tmp_path / "aug.csv")
    aug.save(tmp_path / "aug.parquet")
    with pytest.raises(ValueError, match="exists.*overwrite=True"):
        aug.save(tmp_path / "aug.parquet")
    aug.save(tmp_path / "aug.parquet", overwrite=True)
    _frame().to_csv(tmp_path / "plain.csv", index=False)
    with pytest.raises(ValueError, match="neither parquet nor .npz"):
        AugmentedData.load(tmp_path / "plain.csv")
    _frame().to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(ValueError, match="not written by AugmentedData.save"):
        AugmentedData.load(tmp_path / "plain.parquet")
    with pytest.raises(FileNotFoundError, match="no such file"):
        AugmentedData.load(tmp_path / "none.parquet")


# --------------------------------------------------------------------------- memory


def test_available_memory_is_meminfo_capped_by_the_cgroup(monkeypatch):
    import causalda_jax._memory as memory

    files = {"/proc/meminfo": "MemTotal: 16000000 kB\nMemFree: 1000 kB\nMemAvailable: 8000000 kB\n"}

    def fake_open(path, *args, **kwargs):
        if path not in files:
            raise FileNotFoundError(path)
        return io.StringIO(files[path])

    monkeypatch.setattr(memory, "open", fake_open, raising=False)
    assert available_memory() == 8_000_000 * 1024  # MemAvailable, not MemFree
    files["/sys/fs/cgroup/memory.max"] = "2000000000\n"
    files["/sys/fs/cgroup/memory.current"] = "500000000\n"
    assert available_memory() == 1_500_000_000  # the container's limit less its use
    files["/sys/fs/cgroup/memory.max"] = "max\n"
    assert available_memory() == 8_000_000 * 1024
    files["/sys/fs/cgroup/memory.max"] = "400000000\n"
    assert available_memory() == 0  # over the limit already
    # No /proc/meminfo and no cgroup: the free physical pages.
    files.clear()
    monkeypatch.setattr(memory.os, "sysconf", {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}.__getitem__)
    assert available_memory() == 4_096_000


def test_sample_and_augment_refuse_before_allocating(monkeypatch, tmp_path):
    import causalda_jax._memory as memory

    monkeypatch.setattr(memory, "available_memory", lambda: 10**6)
    with pytest.raises(MemoryError, match=r"sampling 100,000 rows × 2 columns needs about 4 MB.*1 MB is available"):
        cda.sample(_frame(), G, 100_000, seed=0)
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(300, 2)), columns=["x", "y"])
    with pytest.raises(MemoryError, match="augmenting.*raise threshold"):
        cda.augment(wide, G, threshold=0.0, max_rows=10**6)
    _frame().to_csv(tmp_path / "d.csv", index=False)
    G.to_json(tmp_path / "g.json")
    code, output = _cli(["sample", tmp_path / "d.csv", "-g", tmp_path / "g.json", "-n", 100_000,
                         "-o", tmp_path / "s.csv"])
    assert code == 2 and "draw fewer samples" in output and not (tmp_path / "s.csv").exists()


def test_the_largest_sample_count_is_refused_on_this_machine(files):
    n = 2**31 - 1
    if (available_memory() or 0) > n * 2 * 20:
        pytest.skip("this machine has enough memory for the largest sample")
    code, output = _cli(["sample", files / "d.csv", "-g", files / "g.json", "-n", n, "-o", files / "s.parquet"])
    assert code == 2 and "sampling 2,147,483,647 rows × 2 columns needs about 85.9 GB" in output, output
    assert not (files / "s.parquet").exists()


def test_check_memory_states_the_numbers():
    check_memory(999, "x", "y", available=1000)
    with pytest.raises(MemoryError, match="x needs about 2 kB of memory but 1 kB is available; y"):
        check_memory(2000, "x", "y", available=1000)


def test_overflow_message_never_suggests_a_threshold_of_one_or_more():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(300, 2)), columns=["x", "y"])
    with pytest.raises(MemoryError) as err:
        cda.augment(df, CausalGraph(["x", "y"]), threshold=0.5, max_rows=10)
    text = str(err.value)
    assert "normalize_threshold=False" in text and "threshold to at least" not in text
    suggested = float(text.split("threshold ≥ ")[1].split(";")[0])
    assert 0 < suggested < 1


# --------------------------------------------------------------------------- marketing mix


def test_mmm_constant_or_collinear_channels_are_refused():
    sim = simulate(weeks=60, channels=3, seed=0)
    cfg = MMMConfig(target="sales", channels=sim.channels)
    validate_weekly(sim.data, cfg)
    with pytest.raises(ValueError, match="channel 'radio' spends 100 every week.*cannot tell its effect"):
        validate_weekly(sim.data.assign(radio=100.0), cfg)
    wobble = 100.0 + 1e-6 * np.arange(60)
    with pytest.raises(ValueError, match="channel 'radio' barely varies"):
        validate_weekly(sim.data.assign(radio=wobble), cfg)
    with pytest.raises(ValueError, match=r"channels \['tv', 'radio'\] move together"):
        validate_weekly(sim.data.assign(radio=3 * sim.data["tv"]), cfg)
    with pytest.raises(ValueError, match=r"channels \['tv', 'radio', 'social'\] are linearly dependent"):
        validate_weekly(sim.data.assign(social=sim.data["tv"] + 2 * sim.data["radio"]), cfg)
    with pytest.raises(ValueError, match="too few"):
        validate_weekly(sim.data.iloc[:20], cfg)


@pytest.mark.parametrize(
    "change, args, message",
    [
        ({"radio": 100.0}, [], "channel 'radio' spends 100 every week"),
        ({}, ["--bootstrap", "-3"], "--bootstrap"),
    ],
)
def test_mmm_command_reports_before_any_kpi(tmp_path, change, args, message):
    _mmm_files(tmp_path, weeks=60, **change)
    out = tmp_path / "report"
    code, output = _cli(["mmm", tmp_path / "weekly.csv", "-c", tmp_path / "config.json", "-o", out, *args])
    assert code == 2 and message in output, output
    assert "--config" not in output and not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- start-up and Ctrl-C


def _python(code: str, *args, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_COMPILATION_CACHE_DIR": ""}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, **kwargs)


def test_help_and_argument_errors_load_no_heavy_library():
    code = textwrap.dedent("""
        import sys
        from causalda_jax._cli import app
        for args in (["--help"], ["augment", "--help"], ["augment", "d.csv"], ["mmm", "--help"]):
            try:
                app(args, standalone_mode=False)
            except Exception:
                pass
        print(sorted(m for m in ("jax", "pandas", "sklearn", "scipy", "matplotlib") if m in sys.modules))
    """)
    out, err = _python(code).communicate(timeout=120)
    assert out.decode().strip().splitlines()[-1] == "[]", err.decode()


def test_the_tool_keeps_compiled_programs_between_runs(tmp_path):
    # Importing the package (as the tool does) points JAX's persistent cache at the user cache
    # folder through the environment, before JAX loads; a choice the user made stays.
    code = "import os, sys, causalda_jax; print(os.environ.get('JAX_COMPILATION_CACHE_DIR'), 'jax' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR", "CAUSALDA_NO_COMPILE_CACHE")}
    env.update(PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == [str(tmp_path / "causalda-jax" / "jax"), "False"], out.stderr
    env["JAX_COMPILATION_CACHE_DIR"] = ""  # the user's choice (here: no cache) stays
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False"], out.stderr


def _wait_for_handler(proc, timeout=60.0):
    """Wait until the tool has installed its Ctrl-C handler (its wake-up socket exists)."""
    deadline = time.monotonic() + timeout
    fds = Path(f"/proc/{proc.pid}/fd")
    while time.monotonic() < deadline:
        try:
            if any(os.readlink(fd).startswith("socket:") for fd in fds.iterdir()):
                return
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError("the handler was never installed")


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc to see the handler installed")
def test_ctrl_c_at_any_moment_exits_130_with_one_line_and_no_output(files):
    # At once (imports), a little later (JAX loading, compiling) and later still (sampling).
    delays = [0.0, 1.0, 3.0]
    procs = []
    for i, delay in enumerate(delays):
        cmd = "from causalda_jax.__main__ import main; main()"
        proc = _python(cmd, "sample", str(files / "d.csv"), "-g", str(files / "g.json"), "-n", "20000000",
                       "-o", str(files / f"s{i}.parquet"), "--force")
        procs.append((proc, delay))
    start = time.monotonic()
    for proc, _ in procs:
        _wait_for_handler(proc)
    for proc, delay in sorted(procs, key=lambda p: p[1]):
        time.sleep(max(0.0, start + delay - time.monotonic()))
        proc.send_signal(signal.SIGINT)
    for proc, delay in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (delay, err.decode()[-2000:])
        assert err.decode() == "interrupted; nothing was written\n", (delay, err.decode()[-2000:])
    assert sorted(p.name for p in files.iterdir()) == ["d.csv", "g.json", "k.json"]


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc to see the handler installed")
def test_ctrl_c_in_the_middle_of_a_write(tmp_path):
    code = textwrap.dedent("""
        import os, signal, sys, time
        from pathlib import Path
        from causalda_jax._interrupt import exit_on_interrupt
        from causalda_jax._output import write_file
        exit_on_interrupt()
        folder = Path(sys.argv[1])
        write_file(folder / "first.csv", lambda tmp: Path(tmp).write_text("x\\n1\\n"))
        def half(tmp):
            Path(tmp).write_text("x\\n1\\n2\\n")
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(30)
        write_file(folder / "second.csv", half)
    """)
    proc = _python(code, str(tmp_path))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert err.decode() == f"interrupted; {tmp_path / 'first.csv'} was written before the interrupt\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.csv"]
