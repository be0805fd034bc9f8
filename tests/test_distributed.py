"""sample across jax.distributed processes: two local CPU processes against a one-process run."""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalda_jax import initialize_processes, sample

ROOT = Path(__file__).resolve().parents[1]
GRAPH = {"directed": [["x", "y"], ["c", "y"], ["y", "z"]]}

# One process of the job: joins it from the environment, draws its share in memory and into a
# shared directory, and saves the share for the test to compare.
WORKER = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    import causalda_jax as cda

    data, out, seed = pd.read_parquet(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    graph = {"directed": [["x", "y"], ["c", "y"], ["y", "z"]]}
    cda.initialize_processes(timeout=60)
    import jax
    me = jax.process_index()
    try:
        frame, idx = cda.sample(data, graph, 1001, seed=seed, return_indices=True, chunk_size=256)
        res = cda.sample(data, graph, 1001, seed=seed, out=out + "/parts", part_rows=200, chunk_size=256)
    except ValueError as err:
        print("ERROR:", err, flush=True)
        sys.exit(3)
    frame.to_parquet(f"{out}/share{me}.parquet")
    np.save(f"{out}/idx{me}.npy", idx)
    print("parts", me, [p.name for p in res.parts], res.n_rows, flush=True)
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    c = pd.Categorical(rng.choice(["a", "b"], size=200))
    y = np.cos(x) + (c == "a") + 0.3 * rng.normal(size=200)
    return pd.DataFrame({"x": x, "c": c, "y": y, "z": (y > 1).astype(np.int64)})


def _launch(tmp_path, data_file, seeds):
    port = _free_port()
    procs = []
    for pid, seed in enumerate(seeds):
        env = {
            **os.environ,
            "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
            "JAX_NUM_PROCESSES": str(len(seeds)),
            "JAX_PROCESS_ID": str(pid),
            "JAX_PLATFORMS": "cpu",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        cmd = [sys.executable, "-c", WORKER, str(data_file), str(tmp_path), str(seed)]
        procs.append(
            subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        )
    outs = [p.communicate(timeout=300)[0] for p in procs]
    return [p.returncode for p in procs], outs


@pytest.mark.slow
def test_two_processes_draw_the_one_process_sample(df, tmp_path):
    df.to_parquet(tmp_path / "d.parquet")
    codes, outs = _launch(tmp_path, tmp_path / "d.parquet", [7, 7])
    assert codes == [0, 0], outs
    expected, idx = sample(df, GRAPH, 1001, seed=7, return_indices=True)
    shares = [pd.read_parquet(tmp_path / f"share{k}.parquet") for k in range(2)]
    # Contiguous shares 0..499 and 500..1000, indexed by their positions in the whole draw.
    assert [len(s) for s in shares] == [500, 501] and shares[1].index[0] == 500
    pd.testing.assert_frame_equal(pd.concat(shares), expected)
    np.testing.assert_array_equal(np.concatenate([np.load(tmp_path / f"idx{k}.npy") for k in range(2)]), idx)
    # Six parts of 200 rows (the last one 1): parts 0-2 and 3-5, together the one-process draw.
    assert "parts 0 ['part-000000.parquet', 'part-000001.parquet', 'part-000002.parquet'] 600" in outs[0]
    assert "parts 1 ['part-000003.parquet', 'part-000004.parquet', 'part-000005.parquet'] 401" in outs[1]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "parts"), expected)
    assert (tmp_path / "parts" / "_manifest.json").exists()


@pytest.mark.slow
def test_processes_called_differently_are_refused(df, tmp_path):
    df.to_parquet(tmp_path / "d.parquet")
    codes, outs = _launch(tmp_path, tmp_path / "d.parquet", [7, 8])
    assert codes == [3, 3], outs
    for out in outs:
        assert "ERROR: the call to sample differs between the processes of this jax.distributed job in: key" in out
    assert not (tmp_path / "parts").exists()  # refused before anything was written


def test_bad_configurations_fail_clearly(monkeypatch):
    for var in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="missing num_processes \\(\\$JAX_NUM_PROCESSES\\)"):
        initialize_processes("127.0.0.1:1234", process_id=0)
    with pytest.raises(ValueError, match="process_id must lie in \\[0, num_processes\\); got process_id=2"):
        initialize_processes("127.0.0.1:1234", 2, 2)
    monkeypatch.setenv("JAX_NUM_PROCESSES", "two")
    with pytest.raises(ValueError, match="num_processes must be an integer, got 'two'"):
        initialize_processes("127.0.0.1:1234", process_id=0)
    with pytest.raises(ValueError, match="coordinator address must be HOST:PORT"):
        initialize_processes("localhost", 2, 1)
    # A worker whose coordinator never comes: a clear error after the timeout, not JAX's abort.
    with pytest.raises(ValueError, match="no coordinator answers at 127.0.0.1:\\d+ after 1 s"):
        initialize_processes(f"127.0.0.1:{_free_port()}", 2, 1, timeout=1)
    # Process 0 on a port that is taken.
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        with pytest.raises(ValueError, match="port \\d+ is already in use here"):
            initialize_processes(f"127.0.0.1:{busy.getsockname()[1]}", 2, 0)
