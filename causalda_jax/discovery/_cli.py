"""``causalda discover``: learn a graph from a CSV file and optional expert knowledge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .._cli_io import check_outputs, fail, read_table
from .._output import write_file

__all__ = ["discover_command"]

PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def discover_command(
    data: Annotated[Path, typer.Argument(help="CSV file, one numeric column per variable.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="GRAPH.json to write (the format `causalda augment` reads).")
    ],
    knowledge: Annotated[
        Optional[Path],
        typer.Option("--knowledge", "-k", help="Knowledge JSON or YAML file.", exists=True, dir_okay=False),
    ] = None,
    report: Annotated[
        Optional[Path],
        typer.Option(
            "--report", help="Write the disagreement report (markdown) here, and every verdict to the same name .csv."
        ),
    ] = None,
    plot: Annotated[
        Optional[Path], typer.Option("--plot", help="Write a drawing (e.g. GRAPH.png), edges coloured by agreement.")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="dagma, dagma-mlp or pc.")] = "dagma",
    n_bootstrap: Annotated[
        Optional[int], typer.Option("--bootstrap", help="Bootstrap resamples (default depends on method).")
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level of the CI tests.")] = 0.05,
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Minimum edge strength (DAGMA).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output files.")] = False,
) -> None:
    """Learn a causal DAG from DATA and expert knowledge; report where they disagree."""
    check_outputs(
        [("--output", output, (".json",)), ("--report", report, None),
         ("--report (its verdict table)", None if report is None else _verdict_table(report), None),
         ("--plot", plot, PLOT_SUFFIXES)],
        [data, knowledge],
        force,
    )
    if n_bootstrap is not None and n_bootstrap < 0:
        fail(f"--bootstrap must be >= 0, got {n_bootstrap}")
    try:
        frame = read_table(data)
    except ValueError as e:
        fail(str(e))
    from ._discover import discover

    try:
        result = discover(frame, None if knowledge is None else str(knowledge), method=method,
                          n_bootstrap=n_bootstrap, alpha=alpha, threshold=threshold, seed=seed)
    except (ValueError, TypeError, FileNotFoundError) as e:
        fail(str(e))
    write_file(output, result.to_json)
    conflicts = result.report.conflicts
    typer.echo(f"{result.graph.number_of_edges()} edges over {result.graph.number_of_nodes()} variables -> {output}")
    if len(conflicts):
        typer.echo(f"{len(conflicts)} disagreements between data and knowledge (see the report)")
    if report is not None:
        table = _verdict_table(report)
        write_file(table, lambda tmp: result.report.to_csv(tmp))
        markdown = result.report.to_markdown(csv_link=table.name)
        write_file(report, lambda tmp: Path(tmp).write_text(markdown, encoding="utf-8"))
        typer.echo(f"report -> {report} (every verdict: {table})")
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        from ._plot import plot_agreement

        write_file(plot, lambda tmp: plot_agreement(result, tmp))
        typer.echo(f"plot -> {plot}")


def _verdict_table(report: Path) -> Path:
    """Where the CSV of every verdict goes: next to the report, same name, ``.csv``."""
    return report.with_suffix(".csv") if report.suffix.lower() != ".csv" else report.with_name(report.stem + "_verdicts.csv")
