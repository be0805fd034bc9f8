"""``causalda study SCENARIO``: run one scenario sweep of the practical guide's study."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["study_command"]


def study_command(
    scenario: Annotated[
        str, typer.Argument(help="mechanism, n_points, n_variables, degree, noise, outliers or threshold")
    ],
    reps: Annotated[Optional[int], typer.Option("--reps", help="repetitions per value (default 20; 2 with --quick)")] = None,
    jobs: Annotated[int, typer.Option("--jobs", help="worker processes")] = 1,
    out: Annotated[Optional[Path], typer.Option("--out", help="output folder (default benchmarks/results/study_SCENARIO)")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="few values, 2 reps, 2 targets: a few minutes on 2 cores")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="show a progress bar")] = True,
) -> None:
    """Run (or resume) a scenario of the random-SCM study and write results, plots and a summary."""
    from ._runner import run_study
    from ._scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        raise typer.BadParameter(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    target = out if out is not None else Path("benchmarks/results") / f"study_{scenario}"
    try:
        results = run_study(scenario, reps=reps, jobs=jobs, out=target, quick=quick, progress=progress)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    typer.echo(f"{len(results)} result rows; summary: {target / 'summary.md'}")
