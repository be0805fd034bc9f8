"""Run a scenario sweep: resumable, parallel over local processes or a Dask cluster, tidy results on disk."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .._output import write_file
from ._protocol import Protocol, run_once
from ._scenarios import DEFAULTS, SCENARIOS, Scenario, Settings

__all__ = ["QUICK_PROTOCOL", "run_study"]

# --quick: every arm and the full XGBoost grid, but 2 targets per run, a smaller reference
# sample, and the regressor arm choosing only between α = 0 and α = 0.5.
QUICK_PROTOCOL = Protocol(max_targets=2, n_reference=300, selection_grid={"aug_coeff": [0.5]})
QUICK_REPS = 2
FULL_REPS = 20


def _scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {sorted(SCENARIOS)}")
    return SCENARIOS[name]


def _run_file(runs: Path, parameter: str, value: Any, rep: int) -> Path:
    return runs / f"{parameter}={value}__rep{rep}.parquet"


def run_cell(
    settings: Settings, protocol: Protocol, seed: int, meta: dict, cache_dir: str | None = None
) -> tuple[pd.DataFrame | None, str | None]:
    """Run one cell: ``(frame, None)``, or ``(None, error message)`` instead of raising.

    The frame travels back to the caller, which writes it: workers need no shared file system.
    """
    if cache_dir is not None:
        _use_cache(cache_dir)
    try:
        frame = run_once(settings, protocol, seed)
        for key, val in reversed(list(meta.items())):
            frame.insert(0, key, [val] * len(frame))
        return frame, None
    except Exception as err:  # reported by the parent; the run is retried on the next call
        return None, f"{type(err).__name__}: {err}"


def _write_cell(frame: pd.DataFrame, path: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _use_cache(cache_dir: str) -> None:
    # Worker processes share compiled XLA programs through JAX's persistent cache, so a shape
    # compiled by one worker (or by an earlier study) is not compiled again by the next.
    import jax

    # Ctrl-C reaches every process of the terminal; the parent stops its local workers itself.
    # A Dask worker runs cells in a thread, where signals cannot (and need not) be set.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir", cache_dir)


def default_cache_dir() -> str:
    """This process's JAX compilation cache folder, else one in its temp directory."""
    import jax

    return jax.config.jax_compilation_cache_dir or os.path.join(tempfile.gettempdir(), "causalda_jax_xla_cache")


def _check_config(out: Path, config: dict) -> tuple:
    """Write ``config.json``; the arms of the study (the recorded ones, then any added).

    Adding arms extends a study as adding reps or values does; removing arms or changing any
    other setting is refused, since the finished cells would no longer match the config.
    """
    path = out / "config.json"
    arms = tuple(config["protocol"]["arms"])
    if path.exists():
        old = json.loads(path.read_text())
        keep = ("scenario", "defaults", "protocol")
        changed = [k for k in keep if _without_arms(old.get(k)) != _without_arms(config.get(k))]
        if changed:
            raise ValueError(
                f"{out} holds runs made with other settings ({', '.join(changed)} differ; see {path}); "
                "use another --out directory or delete that one to start afresh"
            )
        old_arms = tuple(old["protocol"]["arms"])
        missing = [a for a in old_arms if a not in arms]
        if missing:
            raise ValueError(
                f"{out} holds runs with arms {list(old_arms)} (see {path}); the arms asked for leave out "
                f"{missing}: ask for all of them (arms may only be added) or use another --out directory"
            )
        arms = old_arms + tuple(a for a in arms if a not in old_arms)
        config = {**config, "protocol": {**config["protocol"], "arms": list(arms)}}
    path.write_text(json.dumps(config, indent=2, default=str))
    return arms


def _without_arms(entry: Any) -> Any:
    return {k: v for k, v in entry.items() if k != "arms"} if isinstance(entry, dict) else entry


def _arms_done(path: Path) -> set:
    """The arms a finished cell file holds (none when the cell has not run)."""
    if not path.exists():
        return set()
    return set(pd.read_parquet(path, columns=["arm"])["arm"])


def run_study(
    scenario: str,
    *,
    reps: int | None = None,
    jobs: int = 1,
    out: str | os.PathLike | None = None,
    quick: bool = False,
    values: tuple | None = None,
    protocol: Protocol | None = None,
    defaults: Settings = DEFAULTS,
    progress: bool = True,
    report: bool = True,
    client: Any = None,
    cache_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Run (or resume) one scenario of the study and write its results.

    Every (value, repetition) cell is one call of :func:`run_once` with seed = repetition,
    so every value of the swept parameter is compared on the same seeds (the random graph is
    the same across values whenever the node count is). Each finished cell is stored as
    ``out/runs/<parameter>=<value>__rep<r>.parquet`` and skipped on the next call, so an
    interrupted study resumes where it stopped; adding reps, values or arms extends it (a
    finished cell then runs only its missing arms and is rewritten with all of them).

    With ``client`` the cells run on a Dask cluster (docs/distributed.md) instead of local
    processes; each worker sends its cell's table back and the caller writes it, so workers
    need no access to ``out``. A cell that fails (or whose worker dies) is reported and left
    for the next call, as locally.

    Args:
        scenario: one of ``mechanism, n_points, n_variables, degree, noise, outliers, threshold``.
        reps: repetitions per value (20, or 2 with ``quick``).
        jobs: worker processes (``1``: run here).
        out: output folder (default ``causalda-output/study_<scenario>``).
        quick: the scenario's short list of values, 2 repetitions, 2 targets per run.
        values: override the values swept.
        protocol: override the protocol (:class:`Protocol`).
        defaults: settings that the scenario does not vary.
        progress: show a rich progress bar.
        report: write ``results.parquet``, ``results.csv``, plots and ``summary.md``.
        client: a ``dask.distributed.Client``, or a scheduler address (``"tcp://host:8786"``)
            to connect to for this call; ``jobs`` must then stay 1.
        cache_dir: JAX's persistent compilation cache for the workers (default: the caller's
            ``jax_compilation_cache_dir``, else a folder in each machine's temp directory).
            Workers that share a file system share the compiled programs through it.

    Returns:
        The tidy results of all requested cells (one row per run, arm and target).
    """
    if isinstance(client, str):
        from ._dask import connect

        # Connect before anything is written: an unreachable scheduler leaves `out` untouched.
        with connect(client) as own:
            return run_study(
                scenario, reps=reps, jobs=jobs, out=out, quick=quick, values=values, protocol=protocol,
                defaults=defaults, progress=progress, report=report, client=own, cache_dir=cache_dir,
            )
    sc = _scenario(scenario)
    values = tuple(values) if values is not None else (sc.quick_values if quick else sc.values)
    reps = reps if reps is not None else (QUICK_REPS if quick else FULL_REPS)
    protocol = protocol or (QUICK_PROTOCOL if quick else Protocol())
    if reps < 1 or jobs < 1:
        raise ValueError(f"reps and jobs must be >= 1; got reps={reps}, jobs={jobs}")
    if client is not None:
        from ._dask import check_client

        check_client(client)
        if jobs != 1:
            raise ValueError(f"jobs={jobs} with a Dask client: the cluster's workers run the cells; leave jobs at 1")
    cache = str(cache_dir) if cache_dir is not None else None
    out = Path(out) if out is not None else Path("causalda-output") / f"study_{scenario}"
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    arms = _check_config(
        out,
        {
            "scenario": scenario,
            "parameter": sc.parameter,
            "values": list(values),
            "reps": reps,
            "quick": quick,
            "defaults": asdict(defaults),
            "protocol": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(protocol).items()},
        },
    )
    protocol = replace(protocol, arms=arms)
    pending = []
    for value in values:
        for rep in range(reps):
            path = _run_file(runs, sc.parameter, value, rep)
            done = _arms_done(path)
            # A cell's arms share its seed and nothing else, so a cell run for its missing arms
            # only holds, once merged, what a fresh run with all arms would have written.
            todo = tuple(a for a in arms if a not in done)
            if todo:
                meta = {"scenario": scenario, "parameter": sc.parameter, "value": value, "rep": rep}
                settings = defaults.with_value(sc.parameter, value)
                pending.append((settings, replace(protocol, arms=todo), rep, meta, str(path), bool(done)))
    title = f"study {scenario}"
    if client is not None:
        from ._dask import execute_on_dask

        errors = execute_on_dask(pending, client, progress, title, cache)
    else:
        errors = _execute(pending, jobs, progress, title, cache)
    for meta, message in errors:
        print(f"run {meta['parameter']}={meta['value']} rep {meta['rep']} failed: {message}")
    files = [_run_file(runs, sc.parameter, v, r) for v in values for r in range(reps)]
    frames = [pd.read_parquet(f) for f in files if f.exists()]
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if report and len(results):
        from ._plots import plot_results
        from ._summary import write_summary

        write_file(out / "results.parquet", lambda tmp: results.to_parquet(tmp, index=False))
        write_file(out / "results.csv", lambda tmp: results.to_csv(tmp, index=False))
        plot_results(results, sc, out / "plots")
        write_summary(results, sc, out / "summary.md", defaults=defaults, protocol=protocol, reps=reps, quick=quick)
    return results


def progress_bar(progress: bool):
    """The study's progress bar (a rich ``Progress``; silent when ``progress`` is false)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, disable=not progress)


def finish_cell(item: tuple, result: tuple, errors: list) -> None:
    """Write a finished cell's table, or record its error: the same for every executor."""
    frame, message = result
    if message is None:
        if item[5]:  # the cell held other arms already: keep them, the new arms after them
            frame = pd.concat([pd.read_parquet(item[4]), frame], ignore_index=True)
        _write_cell(frame, item[4])
    else:
        errors.append((item[3], message))


def _execute(pending: list, jobs: int, progress: bool, title: str, cache_dir: str | None) -> list:
    errors: list = []
    with progress_bar(progress) as bar:
        task = bar.add_task(title, total=len(pending))
        if jobs == 1 or len(pending) <= 1:
            for item in pending:
                finish_cell(item, run_cell(*item[:4]), errors)
                bar.advance(task)
            return errors
        # spawn: JAX's runtime threads do not survive fork.
        cache = cache_dir or default_cache_dir()
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_cell, *item[:4], cache): item for item in pending}
            for future in as_completed(futures):
                finish_cell(futures[future], future.result(), errors)
                bar.advance(task)
    return errors

