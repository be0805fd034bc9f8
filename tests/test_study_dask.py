"""The study on a Dask cluster: same tables as a local run, resume, per-cell failures, errors."""

import socket
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from distributed import Client

from causalda_jax.study import Protocol, Settings, run_study
from causalda_jax.study import _dask
from causalda_jax.study._cli import study_command

# Tiny: 4 linear variables, 40 rows, one target; the sample arm runs JAX on the workers.
PROTOCOL = Protocol(
    max_targets=1,
    n_reference=100,
    cv=2,
    param_grid={"n_estimators": [10], "reg_lambda": [1]},
    arms=("baseline", "sample"),
)
SETTINGS = Settings(n_nodes=4, n_samples=40, expected_degree=1, mechanism="linear")
KW = dict(reps=1, protocol=PROTOCOL, defaults=SETTINGS, progress=False, report=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    # Timings differ from run to run; everything else is a function of the settings and seed.
    cols = [c for c in frame.columns if not c.startswith("seconds")]
    return frame[cols].sort_values(["value", "rep", "arm", "target"]).reset_index(drop=True)


@pytest.mark.slow
def test_dask_cluster_matches_local_run(tmp_path, capsys):
    from distributed import Client, LocalCluster

    local = run_study("threshold", values=(1e-1, 1e-2), out=tmp_path / "local", **KW)
    cache = tmp_path / "xla"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            out = tmp_path / "dask"
            first = run_study("threshold", values=(1e-1,), out=out, client=client, cache_dir=cache, **KW)
            done = out / "runs" / "threshold=0.1__rep0.parquet"
            stamp = done.stat().st_mtime_ns
            both = run_study("threshold", values=(1e-1, 1e-2), out=out, client=client, cache_dir=cache, **KW)
            # The workers were pointed at the cache folder that was passed.
            import jax

            seen = client.run(lambda: jax.config.jax_compilation_cache_dir)
            # A scheduler address (as `causalda study --scheduler` passes it) connects for the call.
            failed = run_study(
                "noise", values=(0.1,), out=tmp_path / "bad", client=cluster.scheduler_address,
                **{**KW, "defaults": Settings(mechanism="bogus")},
            )
    assert len(first) == 2 and done.stat().st_mtime_ns == stamp  # resumed: the first cell was not rerun
    # Cell by cell, the cluster computed what the local run computed.
    pd.testing.assert_frame_equal(_comparable(both), _comparable(local))
    assert (both["status"] == "ok").all()
    assert set(seen.values()) == {str(cache)}
    # A failing cell is reported and not written; the study goes on.
    assert failed.empty and not list((tmp_path / "bad" / "runs").iterdir())
    assert "run noise_scale=0.1 rep 0 failed: ValueError: unknown mechanism" in capsys.readouterr().out


def test_unreachable_scheduler_fails_fast_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with pytest.raises(ValueError, match="no Dask scheduler answers at 'tcp://127.0.0.1:"):
        run_study("noise", values=(0.1,), out=tmp_path / "o", client=address, **KW)
    assert time.monotonic() - start < 10 and not (tmp_path / "o").exists()
    app = __import__("typer").Typer()
    app.command()(study_command)
    result = CliRunner().invoke(app, ["noise", "--scheduler", address, "--out", str(tmp_path / "o"), "--no-progress"])
    assert result.exit_code == 2 and "no Dask scheduler answers" in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()


def test_client_and_jobs_are_exclusive(tmp_path):
    with pytest.raises(ValueError, match="jobs=2 with a Dask client"):
        run_study("noise", values=(0.1,), out=tmp_path, client=Client.__new__(Client), jobs=2, **KW)
    with pytest.raises(ValueError, match="client must be a dask.distributed.Client"):
        run_study("noise", values=(0.1,), out=tmp_path / "o", client=object(), **KW)
    assert not (tmp_path / "o").exists()
