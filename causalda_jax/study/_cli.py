"""``causalda study SCENARIO``: run one scenario sweep of the practical guide's study."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .._cli_io import check_folder, fail

__all__ = ["study_command"]


def study_command(
    scenario: Annotated[
        str, typer.Argument(help="mechanism, n_points, n_variables, degree, noise, outliers or threshold")
    ],
    reps: Annotated[
        Optional[int], typer.Option("--reps", help="repetitions per value (default 20; 2 with --quick)")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", help="worker processes")] = 1,
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="output folder (default causalda-output/study_SCENARIO)")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="few values, 2 reps, 2 targets: a few minutes on 2 cores")
    ] = False,
    values: Annotated[
        Optional[str], typer.Option("--values", help="comma-separated values to sweep instead of the scenario's")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="show a progress bar")] = True,
    force: Annotated[bool, typer.Option("--force", help="write into a non-empty folder that holds no study")] = False,
    scheduler: Annotated[
        Optional[str], typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786): run the cells there")
    ] = None,
    arms: Annotated[
        Optional[str],
        typer.Option("--arms", help="comma-separated arms (default: baseline,augment,sample,regressor); also "
                     "sample_anm, sample_anm_ridge, sample_anm_mlp, sample_mdn; adding arms to a finished "
                     "study runs only the added arms in its finished cells"),
    ] = None,
) -> None:
    """Run (or resume) a scenario of the random-SCM study and write results, plots and a summary."""
    from .._interrupt import note_kept
    from ._scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        fail(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    target = out if out is not None else Path("causalda-output") / f"study_{scenario}"
    # A folder holding a study (config.json) is resumed; any other non-empty folder is refused.
    resumable = _holds_study(target)
    check_folder("--out", target, [], force=force or resumable)
    from dataclasses import replace

    from ._protocol import ARMS, ESTIMATOR_ARMS, Protocol
    from ._runner import QUICK_PROTOCOL, run_study

    note_kept(f"finished runs are kept in {target / 'runs'}; the same command resumes them")
    kwargs = {} if values is None else {"values": _parse_values(values, SCENARIOS[scenario].values)}
    if scheduler is not None:
        kwargs["client"] = scheduler  # connected (and closed) by run_study
    if arms is not None:
        chosen = tuple(a.strip() for a in arms.split(",") if a.strip())
        unknown = [a for a in chosen if a not in ARMS + ESTIMATOR_ARMS]
        if unknown or not chosen:
            fail(f"--arms: unknown arms {unknown}; choose from {', '.join(ARMS + ESTIMATOR_ARMS)}")
        kwargs["protocol"] = replace(QUICK_PROTOCOL if quick else Protocol(), arms=chosen)
    try:
        results = run_study(scenario, reps=reps, jobs=jobs, out=target, quick=quick, progress=progress, **kwargs)
    except ValueError as err:
        fail(str(err))
    typer.echo(f"{len(results)} result rows; summary: {target / 'summary.md'}")


def _holds_study(folder: Path) -> bool:
    """Whether ``folder`` holds runs of a study (its ``config.json`` names a scenario)."""
    import json

    try:
        return "scenario" in json.loads((folder / "config.json").read_text())
    except (OSError, ValueError, TypeError):
        return False


def _parse_values(text: str, known: tuple) -> tuple:
    """Parse ``"1,3,5"`` with the type of the scenario's own values."""
    kind = type(known[0])
    try:
        return tuple(kind(v.strip()) if kind is not int else int(float(v)) for v in text.split(",") if v.strip())
    except ValueError:
        fail(f"--values: cannot read {text!r} as {kind.__name__} values")
